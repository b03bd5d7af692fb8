// Issue #11, QuickBooks Desktop classes on the payout's deposit: a payout carries two payments, one for an
// invoice billed under a managed-services contract and one for a project invoice, and the GL mapping's rules
// give those kinds different classes. The deposit Settle plans for the payout (engine/payout-deposit-plan.ts,
// real PostgreSQL) and the Web Connector carries to the simulated company file puts each payment's class on
// its line (DepositLineAdd › OverrideClassRef); the processing-fee line belongs to the whole payout and carries
// none. A deposit line naming a class the company file does not have, or has made inactive, is refused with
// QuickBooks' own 3140.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQbdDirect, type QbdDirect } from '../helpers/qbd-web-connector.ts';
import { money } from '../../src/domain/money.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import type { Posting } from '../../src/db/schema.ts';
import { WaitingForWebConnector } from '../../src/connectors/accounting/quickbooks-desktop/chart.ts';
import { ruleField, saveTrackingRules } from '../../src/engine/gl-mapping.ts';
import { planPayoutDeposit } from '../../src/engine/payout-deposit-plan.ts';
import { depositInput } from '../../src/engine/books-deposit.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';
import { handleQbxml } from '../../simulators/quickbooks-desktop/qbxml.ts';
import { depositAdd } from '../../src/connectors/accounting/quickbooks-desktop/qbxml/requests.ts';
import { depositQueryByTxnId } from '../../src/connectors/accounting/quickbooks-desktop/qbxml/deposit-mod.ts';
import { qbxmlDocument } from '../../src/connectors/accounting/quickbooks-desktop/qbxml/xml.ts';
import type { TenantConnectors } from '../../src/engine/context.ts';

let q: QbdDirect;
const usd = (minor: bigint) => money(minor, 'USD');
/** qbXML documents handed to the simulated company file directly (not through the Web Connector). */
const direct: string[] = [];
const INVOICES = [
  { number: 'M-200', kind: 'managed_services', name: 'Managed IT — Gold', cents: 40_000n },
  { number: 'P-300', kind: 'project', name: 'Server migration', cents: 25_000n },
] as const;
/** Paid in QuickBooks but in no payout here: left in Undeposited Funds for the refusal check. */
const LEFT_OVER = { number: 'X-400', cents: 10_000n };

beforeAll(async () => {
  q = await startQbdDirect('qbd-deposit-classes');
  q.sim.company.addClass('Managed Services');
  q.sim.company.addClass('Projects');
  for (const i of [...INVOICES, LEFT_OVER]) q.sim.company.addInvoice({ refNumber: i.number, customer: 'Acme Dental', amountCents: i.cents });
}, 120_000);
afterAll(async () => q?.close());

const run = async () => expect((await q.sim.webConnector.runNow()).outcome).toBe('done');
const inTenant = <T>(fn: (tx: Tx) => Promise<T>) => withTenant(q.t.db, q.tenant, fn);

/** Settle's side of the payout: the client, the invoices under their contracts, the payments and their postings. */
async function payoutOfTwoPayments(remoteIds: readonly string[]): Promise<string> {
  return inTenant(async (tx) => {
    const t = q.tenant;
    const client = await tx.insertInto('clients').values({ tenant_id: t, name: 'Acme Dental', identifier: 'ACME' }).returning('id').executeTakeFirstOrThrow();
    const payout = await tx
      .insertInto('payouts')
      .values({
        tenant_id: t,
        processor: 'stripe',
        processor_payout_id: 'po_classes',
        currency: 'USD',
        amount_minor: 65_000n - 1_915n,
        gross_minor: 65_000n,
        fees_minor: 1_915n,
        adjustments_minor: 0n,
        arrival_date: '2026-12-08',
        status: 'paid',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const [n, i] of INVOICES.entries()) {
      const inv = await tx
        .insertInto('invoices')
        .values({
          tenant_id: t,
          client_id: client.id,
          number: i.number,
          type: 'standard',
          currency: 'USD',
          total_minor: i.cents,
          psa_balance_minor: 0n,
          paid_minor: i.cents,
          status: 'paid',
          psa_status: 'Sent',
          issued_on: '2026-12-01',
          psa_updated_at: new Date(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('invoice_lines')
        .values({
          tenant_id: t,
          invoice_id: inv.id,
          version: 1,
          line_no: 1,
          external_id: `${i.number}-1`,
          kind: 'product',
          description: i.name,
          quantity: '1',
          amount_minor: i.cents,
          contract_ref: `agr-${n}`,
          contract_name: i.name,
          contract_kind: i.kind,
        } as never)
        .execute();
      const pay = await tx
        .insertInto('payments')
        .values({
          tenant_id: t,
          client_id: client.id,
          currency: 'USD',
          amount_minor: i.cents,
          state: 'succeeded',
          source: 'portal',
          processor: 'stripe',
          processor_payment_id: `pi_${n}`,
          succeeded_at: new Date(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tx.insertInto('allocations').values({ tenant_id: t, payment_id: pay.id, invoice_id: inv.id, amount_minor: i.cents }).execute();
      await tx
        .insertInto('postings')
        .values({
          tenant_id: t,
          target: 'accounting',
          vendor: 'quickbooks_desktop',
          kind: 'payment',
          payment_id: pay.id,
          invoice_id: inv.id,
          amount_minor: i.cents,
          currency: 'USD',
          idempotency_key: `pay:${i.number}`,
          status: 'posted',
          remote_id: remoteIds[n]!,
        } as never)
        .execute();
      await tx
        .insertInto('payout_items')
        .values({
          tenant_id: t,
          payout_id: payout.id,
          balance_transaction_id: `txn_${n}`,
          type: 'charge',
          processor_payment_id: `pi_${n}`,
          payment_id: pay.id,
          gross_minor: i.cents,
          fee_minor: 0n,
          net_minor: i.cents,
        })
        .execute();
    }
    return payout.id;
  });
}

describe('QuickBooks Desktop classes on the payout’s deposit', () => {
  const classId = (name: string) => q.sim.company.classOf({ fullName: name })!.listId;

  it('each payment line carries its invoice’s class; the fee line carries none', async () => {
    // The chart read brings the classes; the rules by contract kind are checked against them.
    await expect(q.books.readChart()).rejects.toThrow(WaitingForWebConnector);
    await run();
    const deps = { db: q.t.db, connectors: { accounting: async () => q.books } as unknown as TenantConnectors };
    await saveTrackingRules(
      deps,
      q.tenant,
      { [ruleField('managed_services', 'class')]: classId('Managed Services'), [ruleField('project', 'class')]: classId('Projects') },
      'system:test',
    );

    // The two payments in QuickBooks (Undeposited Funds), as the posting engine would have put them there.
    const pay = () =>
      q.books.postPayments(
        [...INVOICES, LEFT_OVER].map((i) => ({
          idempotencyKey: `pay:${i.number}`,
          invoiceNumber: i.number,
          amount: usd(i.cents),
          paidOn: '2026-12-07',
          reference: `pi_${i.number}`,
          memo: `Card payment for invoice ${i.number}`,
        })),
      );
    await pay();
    await run();
    const remoteIds = (await pay()).map((r) => (r.ok ? r.remoteId : ''));
    expect(remoteIds.every(Boolean)).toBe(true);
    remoteIds.pop(); // LEFT_OVER's

    const payoutId = await payoutOfTwoPayments(remoteIds);
    const plan = await inTenant((tx) => planPayoutDeposit(tx, payoutId));
    const deposit = { idempotency_key: 'deposit:po_classes', request_generation: 0 } as Posting;
    expect((await q.books.postDeposit(depositInput(deposit, plan))).ok).toBe(false); // queued for the Web Connector
    const from = q.sim.webConnector.requests.length;
    await run();
    expect(await q.books.postDeposit(depositInput(deposit, plan))).toMatchObject({ ok: true });

    const sent = q.sim.webConnector.requests.slice(from).join('\n');
    expect(sent).toContain(`<PaymentTxnID>${remoteIds[0]}</PaymentTxnID><OverrideClassRef><ListID>${classId('Managed Services')}</ListID></OverrideClassRef>`);
    const [d] = q.sim.company.deposits;
    const byTxn = (id: string) => d!.lines.find((l) => l.paymentTxnId === id);
    expect(byTxn(remoteIds[0]!)?.className).toBe('Managed Services');
    expect(byTxn(remoteIds[1]!)?.className).toBe('Projects');
    const fee = d!.lines.find((l) => !l.paymentTxnId)!;
    expect(fee).toMatchObject({ account: 'Merchant Fees', amount: -1_915n });
    expect(fee.className).toBeUndefined();
  }, 180_000);

  it('the company file answers the deposit with each line’s ClassRef, and refuses a class it does not have or has made inactive (3140)', () => {
    const ask = (rq: string) => handleQbxml(q.sim.company, direct[direct.push(qbxmlDocument([rq])) - 1]!, { inUse: 0 });
    const [d] = q.sim.company.deposits;
    const ret = ask(depositQueryByTxnId('q1', d!.txnId));
    expect(ret.match(/<DepositLineRet>.*?<\/DepositLineRet>/g)?.map((l) => /<ClassRef>.*?<FullName>([^<]+)<\/FullName>/.exec(l)?.[1] ?? null)).toEqual([
      'Managed Services',
      'Projects',
      null,
    ]);
    // An account line naming a class the company file does not have; a payment line naming an inactive one.
    const add = (key: string, lines: Pick<Parameters<typeof depositAdd>[1], 'paymentTxnIds' | 'paymentClasses' | 'otherLines'>) =>
      ask(depositAdd(key, { idempotencyKey: `deposit:${key}`, txnDate: '2026-12-09', depositTo: { fullName: 'Checking' }, memo: key, ...lines }));
    const fee = { account: { fullName: 'Merchant Fees' }, amount: usd(-100n), memo: 'fee', classRef: { listId: 'NOT-A-CLASS' } };
    expect(add('a1', { paymentTxnIds: [], otherLines: [fee] })).toMatch(
      /statusCode="3140"[^>]*statusMessage="There is an invalid reference to QuickBooks Class &quot;NOT-A-CLASS&quot; in the Deposit\."/,
    );
    const payment = q.sim.company.payments.find((p) => !p.depositedIn);
    q.sim.company.classOf({ fullName: 'Projects' })!.active = false;
    const projects = q.sim.company.classes.find((c) => c.fullName === 'Projects')!.listId;
    expect(add('a2', { paymentTxnIds: [payment!.txnId], paymentClasses: { [payment!.txnId]: projects }, otherLines: [] })).toMatch(
      /statusCode="3140"[^>]*statusMessage="There is an invalid reference to QuickBooks Class &quot;[^&]+&quot; in the Deposit\."/,
    );
    expect(payment!.depositedIn).toBeNull();
    expect(q.sim.company.deposits).toHaveLength(1);
  });

  it('every qbXML document (the Web Connector’s and those above) is valid against qbxmlops130.xsd', async () => {
    expect((await validateQbxml([...q.sim.webConnector.requests, ...direct])).errors).toEqual([]);
  }, 120_000);
});
