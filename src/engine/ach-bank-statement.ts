// The bank's previous-day BAI2 statement (issue #6 item 5): what the bank itself says it credited and
// debited. The file is stored first like every bank file (ach-poll-bank.ts); here it is read with the strict
// parser (connectors/payments/bank-ach/bai2.ts) and its detail lines kept, then each bank line is matched to
// the settlement or return Settle booked for it (ach-bank-money.ts):
//   credit "<file name>" on D, amount A  ↔  settlement "<file name>:<D>" of A
//   debit  "<file name>", amount A       ↔  the earliest unmatched return of that file of A
// A line and a settlement match at most once each. What stays unmatched for a week — a bank line Settle has
// no settlement or return for, or a settlement or return the bank never reported — becomes an exception; it
// closes itself when the match is made.
import { parseBai2 } from '../connectors/payments/bank-ach/bai2.ts';
import { addDays, type IsoDate } from '../domain/rules/index.ts';
import { money, toDecimalString } from '../domain/money.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { raiseException } from './exceptions.ts';
import { resolveException } from './lifecycle-exceptions.ts';
import { ACH_ACTOR } from './ach-store.ts';
import { AWAITING_STATEMENT, BANK_ACH_PROCESSOR } from './ach-bank-money.ts';

/** How long a line or a settlement may wait for its other half before a person is told (calendar days). */
const MATCH_GRACE_DAYS = 7;

const usd = (minor: bigint): string => `$${toDecimalString(money(minor, 'USD'))}`;

/** Reads a stored statement file and keeps its lines. Returns the outcome recorded on the inbound file. */
export async function applyStatementFile(ctx: EngineContext, tenantId: string, inbound: { id: string; name: string }, text: string): Promise<string> {
  const parsed = parseBai2(text);
  return withTenant(ctx.db, tenantId, async (tx) => {
    if (!parsed.ok) {
      const e = parsed.error;
      const what = `line ${e.line}, record ${e.record}, field ${e.field}: ${e.message}`;
      await audit(tx, tenantId, ACH_ACTOR, 'bank_statement.unreadable', { type: 'ach_inbound_file', id: inbound.id }, { ...e });
      await raiseException(tx, tenantId, ACH_ACTOR, {
        kind: 'bank_statement_unreadable',
        dedupeKey: `ach-inbound:${inbound.id}`,
        clientId: null,
        invoiceIds: [],
        paymentId: null,
        title: `The bank statement ${inbound.name} could not be read`,
        detail: `${what}. None of its lines were matched; ask the bank for a corrected statement.`,
        data: { inbound_file_id: inbound.id, ...e },
      });
      return `unreadable: ${what}`;
    }
    let n = 0;
    for (const g of parsed.file.groups) {
      for (const a of g.accounts) {
        for (const t of a.transactions) {
          // The same bank transaction in another file (a statement sent again, or a corrected one) is one line.
          const seen = await tx
            .selectFrom('bank_statement_lines')
            .select('id')
            .where('as_of_date', '=', g.asOfDate)
            .where('type_code', '=', t.typeCode)
            .where('amount_minor', '=', t.amountCents)
            .where('bank_reference', t.bankReference ? '=' : 'is', t.bankReference || null)
            .where('customer_reference', t.customerReference ? '=' : 'is', t.customerReference || null)
            .where('inbound_file_id', '!=', inbound.id)
            .executeTakeFirst();
          if (seen) continue;
          const r = await tx
            .insertInto('bank_statement_lines')
            .values({
              tenant_id: tenantId,
              inbound_file_id: inbound.id,
              line: t.line,
              account_number: a.accountNumber,
              as_of_date: g.asOfDate,
              type_code: t.typeCode,
              direction: t.direction,
              amount_minor: t.amountCents,
              currency: a.currency,
              bank_reference: t.bankReference || null,
              customer_reference: t.customerReference || null,
              text: t.text || null,
            })
            .onConflict((oc) => oc.columns(['inbound_file_id', 'line']).doNothing())
            .returning('id')
            .executeTakeFirst();
          if (r) n++;
        }
      }
    }
    await audit(tx, tenantId, ACH_ACTOR, 'bank_statement.read', { type: 'ach_inbound_file', id: inbound.id }, { lines: n, file: inbound.name });
    return `statement:${n}`;
  });
}

/** Matches unmatched bank lines to bank-ACH settlements and returns; tells a person what stays unmatched. */
export async function matchBankStatement(ctx: EngineContext, tenantId: string, today: IsoDate): Promise<{ matched: number; unmatched: number }> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    const lines = await tx
      .selectFrom('bank_statement_lines as l')
      .innerJoin('ach_inbound_files as f', 'f.id', 'l.inbound_file_id')
      .selectAll('l')
      .select('f.remote_name')
      .where('l.payout_id', 'is', null)
      .orderBy('l.as_of_date')
      .orderBy('l.line')
      .forUpdate('l')
      .execute();
    let matched = 0;
    const late = addDays(today, -MATCH_GRACE_DAYS);
    for (const l of lines) {
      const payout = await candidate(tx, l);
      if (payout) {
        await tx.updateTable('bank_statement_lines').set({ payout_id: payout.id, matched_at: new Date() }).where('id', '=', l.id).execute();
        await tx.updateTable('payouts').set({ status: 'matched' }).where('id', '=', payout.id).execute();
        await audit(
          tx,
          tenantId,
          ACH_ACTOR,
          'bank_line.matched',
          { type: 'payout', id: payout.id },
          { statement: l.remote_name, line: l.line, reference: payout.processor_payout_id, amount_minor: l.amount_minor, direction: l.direction },
        );
        await resolveException(tx, tenantId, `bank-line:${l.id}`, 'matched');
        await resolveException(tx, tenantId, `bank-ach-unmatched:${payout.id}`, 'matched');
        matched++;
      } else if (l.as_of_date < late && !(await told(tx, `bank-line:${l.id}`))) {
        await raiseException(tx, tenantId, ACH_ACTOR, {
          kind: 'bank_line_unmatched',
          dedupeKey: `bank-line:${l.id}`,
          clientId: null,
          invoiceIds: [],
          paymentId: null,
          title: `A bank ${l.direction} of ${usd(l.amount_minor)} on ${l.as_of_date} matches nothing Settle booked`,
          detail:
            `Bank statement ${l.remote_name}, line ${l.line}: type ${l.type_code}, reference ${l.customer_reference ?? '—'} / ${l.bank_reference ?? '—'}` +
            `${l.text ? ` ("${l.text}")` : ''}. Settle has no bank ACH ${l.direction === 'credit' ? 'settlement' : 'return'} of that amount for it. ` +
            "Check the file named in the reference in Settle's ACH files and with the bank; book it by hand if it is not Settle's.",
          data: { statement_line_id: l.id, statement: l.remote_name, line: l.line, amount_minor: l.amount_minor, direction: l.direction },
        });
      }
    }
    // Settlements and returns the bank has not reported a week on.
    const waiting = await tx
      .selectFrom('payouts')
      .selectAll()
      .where('processor', '=', BANK_ACH_PROCESSOR)
      .where('status', '=', AWAITING_STATEMENT)
      .where('arrival_date', '<', late)
      .execute();
    for (const p of waiting) {
      if (await told(tx, `bank-ach-unmatched:${p.id}`)) continue;
      await raiseException(tx, tenantId, ACH_ACTOR, {
        kind: 'bank_ach_unmatched',
        dedupeKey: `bank-ach-unmatched:${p.id}`,
        clientId: null,
        invoiceIds: [],
        paymentId: null,
        title: `No bank statement line for bank ACH ${p.amount_minor < 0n ? 'return' : 'settlement'} ${p.processor_payout_id}`,
        detail:
          `Settle booked ${usd(p.amount_minor < 0n ? -p.amount_minor : p.amount_minor)} ${p.amount_minor < 0n ? 'out of' : 'into'} the bank on ${p.arrival_date}, ` +
          'but no statement from the bank shows it. Check the bank account; if the statements are not being delivered, ask the bank to put them on the SFTP server.',
        data: { payout_id: p.id, reference: p.processor_payout_id, amount_minor: p.amount_minor },
      });
    }
    return { matched, unmatched: lines.length - matched };
  });
}

/** Told once: an exception staff dismissed (e.g. a bank line that is not Settle's) is not opened again. */
async function told(tx: Tx, dedupeKey: string): Promise<boolean> {
  return (await tx.selectFrom('exceptions').select('id').where('dedupe_key', '=', dedupeKey).executeTakeFirst()) !== undefined;
}

async function candidate(
  tx: Tx,
  l: { direction: 'credit' | 'debit'; customer_reference: string | null; as_of_date: string; amount_minor: bigint },
): Promise<{ id: string; processor_payout_id: string } | undefined> {
  if (!l.customer_reference) return undefined;
  const unmatched = tx
    .selectFrom('payouts as p')
    .select(['p.id', 'p.processor_payout_id'])
    .where('p.processor', '=', BANK_ACH_PROCESSOR)
    .where('p.status', '=', AWAITING_STATEMENT)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('bank_statement_lines as x').select('x.id').whereRef('x.payout_id', '=', 'p.id'))));
  if (l.direction === 'credit') {
    return unmatched
      .where('p.processor_payout_id', '=', `${l.customer_reference}:${l.as_of_date}`)
      .where('p.amount_minor', '=', l.amount_minor)
      .executeTakeFirst();
  }
  return (
    unmatched
      .where('p.processor_payout_id', 'like', `return:${l.customer_reference.replace(/[\\%_]/g, '\\$&')}:%`)
      .where('p.amount_minor', '=', -l.amount_minor)
      // No date condition: Settle reads the return file a day or so after the bank booked its debit.
      .orderBy('p.arrival_date')
      .orderBy('p.created_at')
      .executeTakeFirst()
  );
}
