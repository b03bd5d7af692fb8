// Autopay chosen by the client in the portal (issue #12). The terms shown are the MSP's own autopay rules
// and pre-debit notice policy in words (autopayTermsFor); enrolling records the exact words, their hash, the
// time and the IP in autopay_consents (0049), switches the client's autopay on through the one autopay
// engine (manage-autopay.ts saveClientAutopay — the run, notices and charges are the existing ones) and
// e-mails the client a copy of what they authorised. Leaving switches it off and stamps the consent.
//
// Pilot: while the workspace is in pilot, only pilot clients are collected by Settle at all — a pilot
// client is one whose "Collect through Settle" switch is on (first-run.ts choosePilotClients), and
// saveClientAutopay refuses autopay without it. So enrolment is offered exactly to clients with collection on.
import crypto from 'node:crypto';
import type { Tx } from '../db/tenant.ts';
import { withTenant } from '../db/tenant.ts';
import { format, money, parseCurrency } from '../domain/money.ts';
import type { AutopayRule } from '../domain/autopay.ts';
import { queueEmail } from '../notify/queue-email.ts';
import { audit } from './audit.ts';
import { loadAutopaySettings, loadRules, methodLabel } from './autopay-store.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { saveClientAutopay } from './manage-autopay.ts';

export interface PortalAutopayView {
  /** False: not offered to this client (not in the pilot, or the MSP has no autopay rule for them). */
  readonly offered: boolean;
  readonly whyNot: string | null;
  readonly enrolled: { readonly since: Date; readonly methodLabel: string | null } | null;
  readonly terms: string;
  readonly termsSha256: string;
  readonly noticeDays: number;
  readonly defaultMethod: string | null;
}

const sha256 = (s: string): string => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

function when(rule: AutopayRule): string {
  const anchor = rule.anchor === 'due_date' ? 'due date' : 'invoice date';
  if (rule.offsetDays === 0) return `on its ${anchor}`;
  const n = Math.abs(rule.offsetDays);
  return `${n} day${n === 1 ? '' : 's'} ${rule.offsetDays > 0 ? 'after' : 'before'} its ${anchor}`;
}

function ruleWords(rule: AutopayRule, tenantCurrency: string): string {
  const kinds = rule.invoiceTypes?.length ? `${rule.invoiceTypes.join(' and ')} invoices` : 'invoices';
  const how = rule.methodKinds.map((k) => (k === 'card' ? 'card' : 'bank account')).join(' or ');
  const cap =
    rule.approvalCapMinor !== null
      ? ` A charge over ${format(money(rule.approvalCapMinor, parseCurrency(rule.currency ?? tenantCurrency)))} waits for a person to approve it first.`
      : '';
  return `Each of your ${kinds} is charged ${when(rule)} to your default ${how}.${cap}`;
}

/** The MSP's autopay terms for this client, in the words the client agrees to. */
export async function autopayTermsFor(tx: Tx, tenantId: string, clientId: string): Promise<{ text: string; noticeDays: number; hasRule: boolean }> {
  const tenant = await tx.selectFrom('tenants').select(['name', 'currency']).where('id', '=', tenantId).executeTakeFirstOrThrow();
  const client = await tx.selectFrom('clients').select('name').where('id', '=', clientId).executeTakeFirstOrThrow();
  const settings = await loadAutopaySettings(tx);
  const rules = (await loadRules(tx)).filter((r) => r.enabled && (r.clientId === null || r.clientId === clientId));
  const notice = Math.max(settings.noticeDays, ...rules.map((r) => r.noticeDays ?? settings.noticeDays));
  const text = [
    `I authorise ${tenant.name} to charge the payment method ${client.name} keeps on file with ${tenant.name} for invoices as they fall due, under these terms:`,
    ...rules.map((r) => ruleWords(r, tenant.currency)),
    `Before every charge ${tenant.name} e-mails the billing contact of ${client.name} the amount and the date at least ${notice} day${notice === 1 ? '' : 's'} ahead (the pre-debit notice).`,
    `${client.name} can leave autopay at any time on this page; a charge already announced is not made once autopay is left.`,
  ].join(' ');
  return { text, noticeDays: notice, hasRule: rules.length > 0 };
}

async function defaultMethodOf(tx: Tx, clientId: string) {
  return tx
    .selectFrom('payment_methods')
    .select(['id', 'kind', 'brand', 'last4'])
    .where('client_id', '=', clientId)
    .where('is_default', '=', true)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
}

export async function portalAutopayView(tx: Tx, tenantId: string, clientId: string): Promise<PortalAutopayView> {
  const client = await tx.selectFrom('clients').select(['collection_enabled', 'autopay_enabled']).where('id', '=', clientId).executeTakeFirstOrThrow();
  const terms = await autopayTermsFor(tx, tenantId, clientId);
  const consent = await tx
    .selectFrom('autopay_consents')
    .select(['accepted_at', 'method_id'])
    .where('client_id', '=', clientId)
    .where('left_at', 'is', null)
    .executeTakeFirst();
  const def = await defaultMethodOf(tx, clientId);
  const whyNot = !client.collection_enabled
    ? 'Automatic payments are not offered for your account yet. You can pay each invoice here as usual.'
    : !terms.hasRule
      ? 'Your IT provider does not offer automatic payments at the moment. You can pay each invoice here as usual.'
      : null;
  return {
    offered: whyNot === null,
    whyNot,
    enrolled: consent && client.autopay_enabled ? { since: consent.accepted_at, methodLabel: def ? methodLabel(def) : null } : null,
    terms: terms.text,
    termsSha256: sha256(terms.text),
    noticeDays: terms.noticeDays,
    defaultMethod: def ? methodLabel(def) : null,
  };
}

export interface EnrolInput {
  readonly termsSha256: string;
  readonly ip: string;
  readonly userAgent: string | null;
}

/** The client agrees to the terms on their screen: consent stored, autopay on, a copy e-mailed. */
export async function enrolInAutopay(ctx: EngineContext, tenantId: string, clientId: string, input: EnrolInput): Promise<{ emailedTo: string | null }> {
  const actor = `client:${clientId}` as const;
  return withTenant(ctx.db, tenantId, async (tx) => {
    // One enrolment at a time per client (a double press, two tabs).
    const client = await tx.selectFrom('clients').select(['name', 'billing_email']).where('id', '=', clientId).forUpdate().executeTakeFirstOrThrow();
    const view = await portalAutopayView(tx, tenantId, clientId);
    if (!view.offered) throw new UseCaseError('conflict', view.whyNot ?? 'Automatic payments are not offered for your account.');
    if (view.enrolled) return { emailedTo: null };
    if (input.termsSha256 !== view.termsSha256)
      throw new UseCaseError('conflict', 'The autopay terms changed while this page was open. Reload the page, read the new terms and agree again.');
    const def = await defaultMethodOf(tx, clientId);
    if (!def) throw new UseCaseError('invalid', 'Save a card or bank account first: autopay charges your default payment method.');
    const consent = await tx
      .insertInto('autopay_consents')
      .values({
        tenant_id: tenantId,
        client_id: clientId,
        method_id: def.id,
        terms_text: view.terms,
        terms_sha256: view.termsSha256,
        notice_days: view.noticeDays,
        accepted_at: ctx.now(),
        accepted_ip: input.ip,
        accepted_user_agent: input.userAgent?.slice(0, 400) ?? null,
      })
      .returning(['id', 'accepted_at'])
      .executeTakeFirstOrThrow();
    await saveClientAutopay(tx, tenantId, clientId, { autopay_enabled: true }, actor);
    await audit(
      tx,
      tenantId,
      actor,
      'autopay.client_enrolled',
      { type: 'client', id: clientId },
      { consent_id: consent.id, ip: input.ip, terms_sha256: view.termsSha256, method: methodLabel(def) },
    );
    const to = client.billing_email?.trim() || null;
    if (to) {
      const tenant = await tx.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirstOrThrow();
      await queueEmail(tx, tenantId, {
        kind: 'autopay_authorisation',
        clientId,
        to,
        subject: `Your autopay authorisation with ${tenant.name}`,
        text: [
          `Hello ${client.name},`,
          '',
          `This is your copy of the autopay authorisation given on ${consent.accepted_at.toISOString().replace('T', ' ').slice(0, 16)} UTC from the address ${input.ip}, charging your ${methodLabel(def)}:`,
          '',
          view.terms,
          '',
          `You can leave autopay at any time from your payment page with ${tenant.name}.`,
        ].join('\n'),
        idempotencyKey: `autopay-consent:${consent.id}`,
      });
    }
    return { emailedTo: to };
  });
}

/** The client leaves autopay: switched off at once, the consent stamped with when and from where. */
export async function leaveAutopay(ctx: EngineContext, tenantId: string, clientId: string, ip: string): Promise<void> {
  const actor = `client:${clientId}` as const;
  await withTenant(ctx.db, tenantId, async (tx) => {
    await tx.selectFrom('clients').select('id').where('id', '=', clientId).forUpdate().executeTakeFirstOrThrow();
    await tx.updateTable('autopay_consents').set({ left_at: ctx.now(), left_ip: ip }).where('client_id', '=', clientId).where('left_at', 'is', null).execute();
    await saveClientAutopay(tx, tenantId, clientId, { autopay_enabled: false }, actor);
    await audit(tx, tenantId, actor, 'autopay.client_left', { type: 'client', id: clientId }, { ip });
  });
}
