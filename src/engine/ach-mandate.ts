// The ACH debit authorization (mandate) a client agrees to before Settle debits a bank account by file.
// The portal shows the template; the client's answer names the template's hash, so Settle knows which
// words were on the screen, and the stored mandate is the template filled in with the client's own account
// details — the exact text they agreed to (payments-rules.md §2.2 SEC choice; §2.5 reinitiation is
// disclosed because R01/R09 debits are presented again; §2.7 account validation for WEB).
import { sha256Hex } from './ach-store.ts';

export interface MandateFields {
  readonly mspName: string;
  readonly clientName: string;
  readonly holderName: string;
  readonly holderKind: 'business' | 'personal';
  readonly accountType: 'checking' | 'savings';
  readonly routingNumber: string;
  readonly last4: string;
  readonly date: string; // YYYY-MM-DD
}

/** Version 1 of the wording. Changing the words changes the hash, and a stale form is refused. */
const TEMPLATE = [
  'I authorize {msp} to electronically debit the {kind} {type} account held by {holder} at the bank with',
  'routing number {routing}, account number ending in {last4}, to pay invoices from {msp} to {client}: the',
  'invoices I choose to pay and, if {client} has agreed to autopay, the invoices that fall due under it, each',
  'for the amount shown on the invoice and on or after the date shown. If my bank returns a debit for',
  'insufficient or uncollected funds, {msp} may present it again, at most twice within 180 days. {msp} may',
  'send a zero-dollar test entry first to check that the account can receive debits. This authorization',
  'remains in effect until I revoke it by telling {msp} in writing in time for {msp} to act on it before the',
  'next debit. Agreed on {date}.',
].join(' ');

export function mandateTemplate(): string {
  return TEMPLATE;
}

export function mandateTemplateSha256(): string {
  return sha256Hex(TEMPLATE);
}

export function renderMandate(f: MandateFields): string {
  const values: Record<string, string> = {
    msp: f.mspName,
    client: f.clientName,
    holder: f.holderName,
    kind: f.holderKind,
    type: f.accountType,
    routing: f.routingNumber,
    last4: f.last4,
    date: f.date,
  };
  return TEMPLATE.replace(/\{(\w+)\}/g, (_m, k: string) => values[k] ?? `{${k}}`);
}

/**
 * The authorization as the portal shows it before the client has typed their account (the words they agree
 * to, with the MSP, the client and today filled in; the account's own details named by where they are typed).
 * The hash the form sends is still the template's (mandateTemplateSha256): the filled text is stored at enrolment.
 */
export function previewMandate(mspName: string, clientName: string, date: string): string {
  return renderMandate({
    mspName,
    clientName,
    holderName: 'the account holder named above',
    holderKind: 'business',
    accountType: 'checking',
    routingNumber: 'entered above',
    last4: 'the digits entered above',
    date,
  })
    .replace('the business checking account', 'the business or personal, checking or savings account (as chosen above)')
    .replace('account number ending in the digits entered above', 'the account number entered above');
}
