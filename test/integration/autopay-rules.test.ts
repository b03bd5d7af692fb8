// Autopay rules through the API, and what they do: which invoices get a schedule and when (client rules before
// workspace rules, types and line kinds, due date or invoice date plus offset, a client locked to one rule,
// pilot mode), the pre-debit notice by email with the invoice lines, the charge on the date with the key per
// invoice version and attempt, the fallback method after the default is declined, and refusals of bad input.
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

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ smtpUrl: smtp.url });
  api = apiFor(stack, await stack.apiKey());
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

const mailsTo = (to: string) => smtp.received.filter((m) => m.to.includes(to));

describe('autopay rules', () => {
  it('refuses bad rules with a 4xx that names the problem, and changes nothing', async () => {
    const bad = await api('POST', '/autopay/rules', { name: 'x', invoice_types: ['credit_memo'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/invoice_types/);
    const unknownField = await api('POST', '/autopay/rules', { name: 'x', amount_cap: 5 });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.message).toMatch(/amount_cap/);
    const badCap = await api('POST', '/autopay/rules', { name: 'x', approval_cap_minor: '12.50' });
    expect(badCap.status).toBe(400);
    expect(badCap.body.error.message).toMatch(/minor units/);
    const noClient = await api('POST', '/autopay/rules', { name: 'x', client_id: '00000000-0000-4000-8000-000000000000' });
    expect(noClient.status).toBe(404);
    expect(noClient.body.error.message).toMatch(/no client .* GET \/api\/v1\/clients/);
    expect((await api('GET', '/autopay/rules')).body.data).toEqual([]);
    expect((await api('POST', '/autopay/approvals/00000000-0000-4000-8000-000000000000/approve')).status).toBe(404);
  });

  it('schedules by the first matching rule (client rules first), notices with the lines, charges on the date with the per-version key', async () => {
    const company = newCompany(stack, 'Harbor Dental Autopay');
    const agreement = await newInvoice(stack, company, {
      type: 'Agreement',
      date: today,
      dueDate: addDays(today, 10),
      lines: [product('Managed Workstation', '45.00', 10), product('Backup Storage (TB)', '35.50', 2)],
    });
    const clientId = agreement.clientId;
    const standard = await newInvoice(stack, company, { date: today, dueDate: addDays(today, 30), lines: [product('Firewall Subscription', '89.99')] });
    const timeOnly = await newInvoice(stack, company, {
      date: today,
      dueDate: addDays(today, 30),
      lines: [{ kind: 'time', notes: 'Onsite work', hours: 2, rate: '150' }],
    });

    const workspaceRule = await api('POST', '/autopay/rules', {
      name: 'Agreements 2 days before due',
      invoice_types: ['agreement'],
      line_kinds: ['product'],
      anchor: 'due_date',
      offset_days: -2,
      position: 1,
    });
    expect(workspaceRule.status).toBe(201);
    const clientRule = await api('POST', '/autopay/rules', {
      name: 'Harbor: products 5 days after invoice',
      client_id: clientId,
      invoice_types: ['standard'],
      line_kinds: ['product'],
      anchor: 'invoice_date',
      offset_days: 5,
      position: 50,
    });
    expect(clientRule.status).toBe(201);
    const listed = await api('GET', `/autopay/rules?client_id=${clientId}`);
    expect(listed.body.data.map((r: { name: string }) => r.name)).toEqual(['Harbor: products 5 days after invoice', 'Agreements 2 days before due']);
    const audited = await q(stack, (tx) => tx.selectFrom('audit_log').select('action').where('action', '=', 'autopay.rule_created').execute());
    expect(audited).toHaveLength(2);

    // Pilot mode: nothing happens for a client until autopay is on for it.
    await saveCard(stack, api, clientId, 'pm_card_visa');
    await runOn(stack, today);
    expect(await scheduleOf(stack, agreement.id)).toBeUndefined();
    await enableAutopay(api, clientId);

    await runOn(stack, today);
    const sA = (await scheduleOf(stack, agreement.id))!;
    const sB = (await scheduleOf(stack, standard.id))!;
    expect({ state: sA.state, charge_on: sA.charge_on, rule: sA.rule_id }).toEqual({
      state: 'pending_notice',
      charge_on: addDays(today, 8),
      rule: workspaceRule.body.id,
    });
    expect({ state: sB.state, charge_on: sB.charge_on, rule: sB.rule_id }).toEqual({
      state: 'pending_notice',
      charge_on: addDays(today, 5),
      rule: clientRule.body.id,
    });
    expect(await scheduleOf(stack, timeOnly.id)).toBeUndefined(); // neither rule takes time-only invoices

    // Three days of notice (the workspace default): the standard invoice's notice goes out on day 2.
    await runOn(stack, addDays(today, 1));
    expect((await scheduleOf(stack, standard.id))!.state).toBe('pending_notice');
    await runOn(stack, addDays(today, 2));
    expect((await scheduleOf(stack, standard.id))!.state).toBe('noticed');
    await eventually(async () => mailsTo('ap@harbordentalautopay.example').length === 1, 10_000, 'pre-debit notice');
    const notice = mailsTo('ap@harbordentalautopay.example')[0]!;
    expect(notice.subject).toBe(`Upcoming automatic payment: $89.99 for invoice ${standard.number} on ${addDays(today, 5)}`);
    expect(notice.raw).toContain('Firewall Subscription');
    expect(notice.raw).toContain('Visa ending 4242');
    expect(await intentsForInvoice(stack, standard.id)).toEqual([]);

    await runOn(stack, addDays(today, 4));
    expect(await intentsForInvoice(stack, standard.id)).toEqual([]); // the hold: not before the date in the notice
    const day5 = await runOn(stack, addDays(today, 5));
    expect(day5.charged).toBe(1);
    expect(await intentsForInvoice(stack, standard.id)).toEqual([expect.objectContaining({ amount: 8999, status: 'succeeded' })]);
    const charged = (await scheduleOf(stack, standard.id))!;
    expect(charged.state).toBe('charged');
    const key = await q(stack, (tx) =>
      tx.selectFrom('payment_attempts').select('idempotency_key').where('payment_id', '=', charged.payment_id!).executeTakeFirstOrThrow(),
    );
    expect(key.idempotency_key).toBe(keys.charge(standard.id, 1, 1));
    // The agreement's notice went out on day 5 (8 − 3), its charge on day 8; then ConnectWise has both payments.
    expect((await scheduleOf(stack, agreement.id))!.state).toBe('noticed');
    await runOn(stack, addDays(today, 8));
    expect(await intentsForInvoice(stack, agreement.id)).toEqual([expect.objectContaining({ amount: 52100, status: 'succeeded' })]);
    await eventually(
      async () => stack.sims.connectwise.sim.paymentsFor(agreement.cwId).length === 1 && stack.sims.connectwise.sim.paymentsFor(standard.cwId).length === 1,
      15_000,
      'payments in ConnectWise',
    );
  });

  it('a client locked to a rule is matched against that rule only; deleting a rule someone is locked to is refused', async () => {
    const company = newCompany(stack, 'Cedar Locked');
    const first = await newInvoice(stack, company, { date: today, dueDate: today, lines: [product('Endpoint Security', '7.25', 4)] });
    const rule = await api('POST', '/autopay/rules', { name: 'Agreements only', invoice_types: ['agreement'] });
    await enableAutopay(api, first.clientId, { locked_rule_id: rule.body.id });
    const anyRule = await api('POST', '/autopay/rules', { name: 'Anything of Cedar', client_id: first.clientId });
    expect(anyRule.status).toBe(201);
    await runOn(stack, today);
    expect(await scheduleOf(stack, first.id)).toBeUndefined(); // its own "anything" rule is not tried: locked
    const del = await api('DELETE', `/autopay/rules/${rule.body.id}`);
    expect(del.status).toBe(409);
    expect(del.body.error.message).toMatch(/locked_rule_id/);
    await enableAutopay(api, first.clientId, { locked_rule_id: null });
    await runOn(stack, addDays(today, -10));
    expect((await scheduleOf(stack, first.id))!.rule_id).toBe(anyRule.body.id);
    expect((await api('DELETE', `/autopay/rules/${rule.body.id}`)).status).toBe(204);
  });

  it('the default declined → the fallback method in the same run (attempt 2, its own key); no method → blocked until one is saved', async () => {
    const company = newCompany(stack, 'Maple Fallback');
    const inv = await newInvoice(stack, company, { date: today, dueDate: today, lines: [product('Managed Server', '150.00')] });
    await api('POST', '/autopay/rules', { name: 'Maple now', client_id: inv.clientId, notice_days: 0 });
    await enableAutopay(api, inv.clientId);
    await runOn(stack, today);
    expect((await scheduleOf(stack, inv.id))!).toMatchObject({ state: 'blocked', reason: 'no_payment_method' });

    await saveCard(stack, api, inv.clientId, 'pm_card_chargeDeclined');
    const fallback = await saveCard(stack, api, inv.clientId, 'pm_card_mastercard', false);
    const wrong = await api('PUT', `/autopay/clients/${inv.clientId}`, { fallback_method_id: '00000000-0000-4000-8000-000000000000' });
    expect(wrong.status).toBe(422);
    await enableAutopay(api, inv.clientId, { fallback_method_id: fallback });
    const run = await runOn(stack, today);
    expect(run.charged).toBe(1);
    const intents = await intentsForInvoice(stack, inv.id);
    expect(intents.map((i) => i.status).sort()).toEqual(['requires_payment_method', 'succeeded']);
    const s = (await scheduleOf(stack, inv.id))!;
    expect(s).toMatchObject({ state: 'charged', attempt: 2, method_id: fallback });
    const key = await q(stack, (tx) =>
      tx.selectFrom('payment_attempts').select('idempotency_key').where('payment_id', '=', s.payment_id!).executeTakeFirstOrThrow(),
    );
    expect(key.idempotency_key).toBe(keys.charge(inv.id, 1, 2));
    const fell = await q(stack, (tx) => tx.selectFrom('audit_log').select('detail').where('action', '=', 'autopay.fallback_method').execute());
    expect(fell).toHaveLength(1);
  });
});
