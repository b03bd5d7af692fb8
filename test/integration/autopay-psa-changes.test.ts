// The PSA changes an invoice between the pre-debit notice and the charge (ConnectWise simulator
// `sim.updateInvoice`). The run pulls the PSA first, so the amount collected always follows the PSA's current
// version: an increase gets a new notice and a new full hold (never charged more than a notice said, or
// sooner than notice_days after it); a decrease gets a corrected notice and keeps its date; a void cancels
// the charge and tells the client. Never the old amount, never two charges.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/domain/idempotency.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import {
  addDays,
  apiFor,
  enableAutopay,
  intentsForInvoice,
  newCompany,
  newInvoice,
  product,
  q,
  runOn,
  saveCard,
  scheduleOf,
  todayUtc,
  type Api,
} from '../helpers/autopay.ts';

let smtp: TestSmtp;
let stack: Stack;
let api: Api;
const today = todayUtc();
const day = (n: number): string => addDays(today, n);

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ smtpUrl: smtp.url });
  api = apiFor(stack, await stack.apiKey());
  await api('PUT', '/autopay/settings', { notice_days: 2, jump_percent: null });
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

/** A client in autopay with a saved card and an invoice charged on its due date (day 2), noticed today. */
async function noticedInvoice(name: string, lines = [product('Managed Workstation', '45.00', 4), product('Backup Storage (TB)', '35.50')]) {
  const company = newCompany(stack, name);
  const inv = await newInvoice(stack, company, { date: today, dueDate: day(2), lines });
  await saveCard(stack, api, inv.clientId);
  await api('POST', '/autopay/rules', { name: `${name} on the due date`, client_id: inv.clientId });
  await enableAutopay(api, inv.clientId);
  await runOn(stack, today);
  expect((await scheduleOf(stack, inv.id))!).toMatchObject({ state: 'noticed', noticed_version: 1, noticed_amount_minor: inv.totalMinor, not_before: day(2) });
  return inv;
}

const subjectsFor = (number: string): string[] => smtp.received.filter((m) => m.subject.includes(number)).map((m) => m.subject);

describe('the invoice changes in the PSA after the notice', () => {
  it('more is owed: a new notice and a new full hold, then the NEW amount is charged once (key of version 2)', async () => {
    const inv = await noticedInvoice('Lakeside Increase');
    expect(inv.totalMinor).toBe(21550n);
    // A mid-cycle contract change, made in ConnectWise on the morning of the charge date.
    stack.sims.connectwise.sim.updateInvoice(inv.cwId, { addLines: [product('Managed Workstation (added mid-cycle)', '45.00', 2)] });
    const run = await runOn(stack, day(2));
    expect(run.charged).toBe(0);
    expect(await intentsForInvoice(stack, inv.id)).toEqual([]); // never the old $215.50
    expect((await scheduleOf(stack, inv.id))!).toMatchObject({
      state: 'noticed',
      noticed_version: 2,
      noticed_amount_minor: 30550n,
      not_before: day(4),
      notices_sent: 2,
    });
    await eventually(async () => subjectsFor(inv.number).length === 2, 10_000, 'second notice');
    expect(subjectsFor(inv.number)).toEqual([
      `Upcoming automatic payment: $215.50 for invoice ${inv.number} on ${day(2)}`,
      `Updated automatic payment: $305.50 for invoice ${inv.number} on ${day(4)} (was $215.50)`,
    ]);
    const updated = smtp.received.find((m) => m.subject.startsWith('Updated') && m.subject.includes(inv.number))!;
    expect(updated.raw).toContain('added mid-cycle');

    await runOn(stack, day(3));
    expect(await intentsForInvoice(stack, inv.id)).toEqual([]);
    await runOn(stack, day(4));
    await runOn(stack, day(4));
    expect(await intentsForInvoice(stack, inv.id)).toEqual([expect.objectContaining({ amount: 30550, status: 'succeeded' })]);
    const s = (await scheduleOf(stack, inv.id))!;
    const attempt = await q(stack, (tx) =>
      tx.selectFrom('payment_attempts').select('idempotency_key').where('payment_id', '=', s.payment_id!).executeTakeFirstOrThrow(),
    );
    expect(attempt.idempotency_key).toBe(keys.charge(inv.id, 2, 1));
    await eventually(async () => stack.sims.connectwise.sim.paymentsFor(inv.cwId).length === 1, 15_000, 'ConnectWise payment');
    expect(stack.sims.connectwise.sim.paymentsFor(inv.cwId)[0]).toMatchObject({ amount: 305.5 });
  });

  it('less is owed (a line credited): a corrected notice, the same date, the lower amount', async () => {
    const inv = await noticedInvoice('Pioneer Decrease');
    const backup = stack.sims.connectwise.state.products.all().find((p) => p.invoice?.id === inv.cwId && p.description.startsWith('Backup'))!;
    stack.sims.connectwise.sim.updateInvoice(inv.cwId, { removeLineIds: [{ kind: 'product', id: backup.id }] });
    await runOn(stack, day(1));
    expect((await scheduleOf(stack, inv.id))!).toMatchObject({ state: 'noticed', noticed_version: 2, noticed_amount_minor: 18000n, not_before: day(2) });
    await eventually(async () => subjectsFor(inv.number).length === 2, 10_000, 'corrected notice');
    expect(subjectsFor(inv.number)[1]).toBe(`Updated automatic payment: $180.00 for invoice ${inv.number} on ${day(2)} (was $215.50)`);
    await runOn(stack, day(2));
    expect(await intentsForInvoice(stack, inv.id)).toEqual([expect.objectContaining({ amount: 18000, status: 'succeeded' })]);
  });

  it('voided: not charged, and the client who was told is told it is off', async () => {
    const inv = await noticedInvoice('Riverside Void');
    stack.sims.connectwise.sim.updateInvoice(inv.cwId, { status: 'Void' });
    const run = await runOn(stack, day(2));
    expect(run.cancelled).toBe(1);
    expect((await scheduleOf(stack, inv.id))!).toMatchObject({ state: 'cancelled', reason: 'invoice_voided' });
    await runOn(stack, day(3));
    expect(await intentsForInvoice(stack, inv.id)).toEqual([]);
    await eventually(async () => subjectsFor(inv.number).length === 2, 10_000, 'cancellation email');
    expect(subjectsFor(inv.number)[1]).toBe(`No automatic payment will be taken for invoice ${inv.number}`);
    const cancelled = smtp.received.find((m) => m.subject.startsWith('No automatic') && m.subject.includes(inv.number))!;
    expect(cancelled.raw).toMatch(/voided/);
  });

  it('paid by the client in the portal after the notice: nothing left to collect, cancelled', async () => {
    const inv = await noticedInvoice('Oakridge Paid Meanwhile');
    const token = await stack.portalToken(inv.clientId);
    const { payInPortal } = await import('../helpers/stack.ts');
    await payInPortal(stack, token, [inv.id]);
    await eventually(
      async () => (await q(stack, (tx) => tx.selectFrom('invoices').select('status').where('id', '=', inv.id).executeTakeFirstOrThrow())).status === 'paid',
      15_000,
      'paid in the portal',
    );
    await runOn(stack, day(2));
    expect((await scheduleOf(stack, inv.id))!).toMatchObject({ state: 'cancelled', reason: 'nothing_owed' });
    expect((await intentsForInvoice(stack, inv.id)).map((i) => i.status)).toEqual(['succeeded']); // only the portal's
  });
});
