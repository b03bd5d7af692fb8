// Charges that wait for staff: over a rule's cap, or a jump of more than the workspace's percentage against
// the client's previous invoice. Nothing is noticed or charged until approved through the API (audited);
// a rejection cancels the schedule; a PSA change while waiting supersedes the question with a new one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import {
  addDays,
  apiFor,
  autopayJobsIdle,
  enableAutopay,
  intentsForInvoice,
  newCompany,
  newInvoice,
  product,
  pullInvoice,
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

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ smtpUrl: smtp.url });
  api = apiFor(stack, await stack.apiKey());
  const bad = await api('PUT', '/autopay/settings', { jump_percent: -1 });
  expect(bad.status).toBe(400);
  expect(bad.body.error.message).toMatch(/jump_percent/);
  const s = await api('PUT', '/autopay/settings', { notice_days: 1, jump_percent: 50 });
  expect(s.body).toEqual({ notice_days: 1, jump_percent: 50, requests_per_second: 95, concurrency: 8 });
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

async function client(
  name: string,
  cap: string | null,
  firstPrice = '100.00',
): Promise<{ company: number; clientId: string; first: Awaited<ReturnType<typeof newInvoice>> }> {
  const company = newCompany(stack, name);
  // The client's first invoice (a month ago) is what the next one's jump is measured against.
  const first = await newInvoice(stack, company, {
    date: addDays(today, -30),
    dueDate: addDays(today, -1),
    lines: [product('Managed Workstation', firstPrice)],
  });
  await saveCard(stack, api, first.clientId);
  await api('POST', '/autopay/rules', { name: `${name} rule`, client_id: first.clientId, approval_cap_minor: cap });
  await enableAutopay(api, first.clientId);
  return { company, clientId: first.clientId, first };
}

const pending = async (invoiceId: string) =>
  (
    (await api('GET', '/autopay/approvals?status=pending')).body.data as {
      id: string;
      invoice_id: string;
      amount_minor: string;
      reasons: string[];
      detail: Record<string, unknown>;
    }[]
  ).filter((a) => a.invoice_id === invoiceId);

describe('autopay approvals', () => {
  it('over the cap: waits, no notice; approved → noticed and charged; a second decision is refused', async () => {
    const c = await client('Summit Capped', '50000', '700.00'); // $800 is not a jump against $700
    const big = await newInvoice(stack, c.company, { date: today, dueDate: addDays(today, 1), lines: [product('Firewall Appliance', '800.00')] });
    await runOn(stack, today);
    expect((await scheduleOf(stack, big.id))!).toMatchObject({ state: 'awaiting_approval', reason: 'over_cap', notices_sent: 0 });
    const [ask] = await pending(big.id);
    expect(ask).toMatchObject({ amount_minor: '80000', reasons: ['over_cap'], detail: expect.objectContaining({ cap_minor: '50000' }) });
    await runOn(stack, addDays(today, 1));
    expect(await intentsForInvoice(stack, big.id)).toEqual([]);

    const ok = await api('POST', `/autopay/approvals/${ask!.id}/approve`, { note: 'appliance agreed on the phone' });
    expect(ok).toEqual({ status: 200, body: { id: ask!.id, status: 'approved' } });
    expect((await api('POST', `/autopay/approvals/${ask!.id}/reject`)).status).toBe(409);
    const audit = await q(stack, (tx) => tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'autopay.approval_approved').execute());
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toMatch(/^api_key:/);
    expect(audit[0]!.detail).toMatchObject({ amount_minor: '80000', note: 'appliance agreed on the phone' });

    // Approving queues a run at once (the worker's, today): it sends the notice, with a full day's hold.
    await autopayJobsIdle(stack);
    expect((await scheduleOf(stack, big.id))!).toMatchObject({ state: 'noticed', not_before: addDays(today, 1) });
    await eventually(
      async () => smtp.received.some((m) => m.subject === `Upcoming automatic payment: $800.00 for invoice ${big.number} on ${addDays(today, 1)}`),
      10_000,
      'notice after approval',
    );
    expect(await intentsForInvoice(stack, big.id)).toEqual([]);
    await runOn(stack, addDays(today, 1));
    expect(await intentsForInvoice(stack, big.id)).toEqual([expect.objectContaining({ amount: 80000, status: 'succeeded' })]);
  });

  it('a jump of more than 50 % against the previous invoice waits; rejected → cancelled, never charged', async () => {
    const c = await client('Granite Jump', null);
    const jumped = await newInvoice(stack, c.company, {
      date: today,
      dueDate: today,
      lines: [product('Managed Workstation', '100.00', 2), product('Onboarding', '50.01')],
    });
    await runOn(stack, today);
    expect((await scheduleOf(stack, jumped.id))!).toMatchObject({ state: 'awaiting_approval', reason: 'amount_jump' });
    const [ask] = await pending(jumped.id);
    expect(ask).toMatchObject({
      amount_minor: '25001',
      reasons: ['amount_jump'],
      detail: expect.objectContaining({ previous_total_minor: '10000', jump_percent: 50 }),
    });
    // The first invoice (no previous one) goes through without asking: noticed today, charged a day later.
    expect((await scheduleOf(stack, c.first.id))!).toMatchObject({ state: 'noticed', not_before: addDays(today, 1) });

    const no = await api('POST', `/autopay/approvals/${ask!.id}/reject`, { note: 'project work, invoice by hand' });
    expect(no.body.status).toBe('rejected');
    expect((await scheduleOf(stack, jumped.id))!).toMatchObject({ state: 'cancelled', reason: 'rejected_by_staff' });
    await runOn(stack, addDays(today, 3));
    expect(await intentsForInvoice(stack, jumped.id)).toEqual([]);
    expect(await intentsForInvoice(stack, c.first.id)).toEqual([expect.objectContaining({ amount: 10000, status: 'succeeded' })]);
    const rejected = await q(stack, (tx) => tx.selectFrom('audit_log').select('detail').where('action', '=', 'autopay.approval_rejected').execute());
    expect(rejected[0]!.detail).toMatchObject({ amount_minor: '25001', reasons: ['amount_jump'] });
  });

  it('the PSA changes the invoice while it waits: the old question is superseded by one for the new amount', async () => {
    const c = await client('Oak Superseded', '50000');
    const inv = await newInvoice(stack, c.company, { date: today, dueDate: today, lines: [product('Server', '600.00')] });
    await runOn(stack, today);
    const [first] = await pending(inv.id);
    expect(first!.amount_minor).toBe('60000');
    stack.sims.connectwise.sim.updateInvoice(inv.cwId, { addLines: [product('Rack rails', '100.00')] });
    await pullInvoice(stack, inv.cwId);
    await runOn(stack, today);
    const [second] = await pending(inv.id);
    expect(second!.amount_minor).toBe('70000');
    const stale = await api('POST', `/autopay/approvals/${first!.id}/approve`);
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(/superseded/);
    expect((await api('POST', `/autopay/approvals/${second!.id}/approve`)).status).toBe(200);
    await runOn(stack, today);
    await runOn(stack, addDays(today, 1));
    expect(await intentsForInvoice(stack, inv.id)).toEqual([expect.objectContaining({ amount: 70000, status: 'succeeded' })]);
    await eventually(async () => smtp.received.some((m) => m.subject.includes(`$700.00 for invoice ${inv.number}`)), 10_000, 'notice of the approved amount');
    expect(smtp.received.filter((m) => m.subject.includes(inv.number)).map((m) => m.subject)).toEqual([
      `Upcoming automatic payment: $700.00 for invoice ${inv.number} on ${addDays(today, 1)}`,
    ]);
  });
});
