// Autopay and contracts, with real PostgreSQL and the ConnectWise simulator: the amount-jump hold compares
// each contract with the same contract's lines on its previous invoice (a project invoice after a small
// agreement invoice is not a jump; a jump inside one agreement is, and staff read which and by how much), and
// a rule that covers only some contract kinds holds an invoice with a line of another kind for approval.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LineInput } from '../../simulators/connectwise/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import {
  addDays,
  apiFor,
  enableAutopay,
  intentsForInvoice,
  newCompany,
  newInvoice,
  q,
  runOn,
  saveCard,
  scheduleOf,
  todayUtc,
  type Api,
} from '../helpers/autopay.ts';
import { reasonText } from '../../src/http/staff/autopay.ts';

let smtp: TestSmtp;
let stack: Stack;
let api: Api;
const today = todayUtc();

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ smtpUrl: smtp.url });
  api = apiFor(stack, await stack.apiKey());
  expect((await api('PUT', '/autopay/settings', { notice_days: 1, jump_percent: 25 })).status).toBe(200);
}, 180_000);
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

/** A client on a managed-services agreement and a per-device agreement, with last month's invoice of both. */
async function contractClient(name: string) {
  const company = newCompany(stack, name);
  const cw = stack.sims.connectwise.state;
  const managed = cw.addAgreement(company, `${name} Managed IT`, 150_000n, addDays(today, -90));
  const devices = cw.addAgreement(company, `${name} Per Device`, 90_000n, addDays(today, -90), new Date(), 'Per Device');
  const agreementLines = (deviceCount: number): LineInput[] => [
    { kind: 'product', description: 'Managed IT', quantity: 1, price: '1500.00', under: { agreementId: managed.id } },
    { kind: 'product', description: 'Managed Workstation', quantity: deviceCount, price: '45.00', under: { agreementId: devices.id } },
  ];
  const first = await newInvoice(stack, company, { type: 'Agreement', date: addDays(today, -30), dueDate: addDays(today, -1), lines: agreementLines(20) });
  await saveCard(stack, api, first.clientId);
  await enableAutopay(api, first.clientId);
  return { company, clientId: first.clientId, first, agreementLines };
}

const approvalOf = (invoiceId: string) =>
  q(stack, (tx) => tx.selectFrom('autopay_approvals').selectAll().where('invoice_id', '=', invoiceId).where('status', '=', 'pending').executeTakeFirst());

describe('autopay by contract', () => {
  it('stores each line with its contract, and the invoice lists them', async () => {
    const c = await contractClient('Contract Lines Co');
    const lines = await q(stack, (tx) =>
      tx
        .selectFrom('invoice_lines')
        .select(['contract_ref', 'contract_name', 'contract_kind'])
        .where('invoice_id', '=', c.first.id)
        .orderBy('line_no')
        .execute(),
    );
    expect(lines).toEqual([
      { contract_ref: expect.stringMatching(/^agreement:\d+$/), contract_name: 'Contract Lines Co Managed IT', contract_kind: 'managed_services' },
      { contract_ref: expect.stringMatching(/^agreement:\d+$/), contract_name: 'Contract Lines Co Per Device', contract_kind: 'per_device' },
    ]);
  });

  it('a project invoice after a small agreement invoice is not held; a jump within one agreement is, naming it', async () => {
    const c = await contractClient('Harbor Contracts');
    await api('POST', '/autopay/rules', { name: 'Harbor rule', client_id: c.clientId });
    // $9,800 of project work: six times the last invoice, but the project has no earlier invoice to jump from.
    const project = await newInvoice(stack, c.company, {
      date: today,
      dueDate: addDays(today, 1),
      lines: [{ kind: 'product', description: 'Server migration', quantity: 1, price: '9800.00', under: { project: { id: 31, name: 'Server migration' } } }],
    });
    // The agreements again, with 30 devices instead of 20: per-device billing up 50 %, managed IT the same.
    const grown = await newInvoice(stack, c.company, { type: 'Agreement', date: today, dueDate: addDays(today, 1), lines: c.agreementLines(30) });
    await runOn(stack, today);
    expect((await scheduleOf(stack, project.id))!.state).toBe('noticed');
    expect(await approvalOf(project.id)).toBeUndefined();
    expect((await scheduleOf(stack, grown.id))!).toMatchObject({ state: 'awaiting_approval', reason: 'amount_jump' });
    const ask = (await approvalOf(grown.id))!;
    const detail = ask.detail as Record<string, unknown>;
    expect(detail.contract_jumps).toEqual([
      {
        ref: expect.stringMatching(/^agreement:/),
        name: 'Harbor Contracts Per Device',
        previous_minor: '90000',
        total_minor: '135000',
        increase_minor: '45000',
        percent: 50,
        previous_number: c.first.number,
      },
    ]);
    // Charge day: the project invoice is charged (the charge-day screen judges per contract too); the jump waits.
    await runOn(stack, addDays(today, 1));
    expect(await intentsForInvoice(stack, project.id)).toEqual([expect.objectContaining({ amount: 980_000, status: 'succeeded' })]);
    expect(await intentsForInvoice(stack, grown.id)).toEqual([]);
    expect((await scheduleOf(stack, grown.id))!.state).toBe('awaiting_approval');
    expect(reasonText('amount_jump', detail, 'USD')).toBe(
      `“Harbor Contracts Per Device” rose from $900.00 (invoice #${c.first.number}) to $1,350.00, up $450.00 (50 %) — more than the 25 % a contract may rise between its invoices`,
    );
  });

  it('a rule for managed services and per-device holds a project invoice for approval, with the reason', async () => {
    const c = await contractClient('Cedar Contracts');
    const bad = await api('POST', '/autopay/rules', { name: 'Cedar rule', client_id: c.clientId, contract_kinds: ['managed_services', 'retainer'] });
    expect(bad.status).toBe(400);
    const made = await api('POST', '/autopay/rules', { name: 'Cedar rule', client_id: c.clientId, contract_kinds: ['managed_services', 'per_device'] });
    expect(made.status).toBe(201);
    expect(made.body.contract_kinds).toEqual(['managed_services', 'per_device']);
    const audited = await q(stack, (tx) =>
      tx.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'autopay.rule_created').where('subject_id', '=', made.body.id).execute(),
    );
    expect(JSON.stringify(audited[0]?.detail)).toContain('per_device');
    const project = await newInvoice(stack, c.company, {
      date: today,
      dueDate: addDays(today, 1),
      lines: [{ kind: 'product', description: 'Office move', quantity: 1, price: '2400.00', under: { project: { id: 32, name: 'Office move' } } }],
    });
    const same = await newInvoice(stack, c.company, { type: 'Agreement', date: today, dueDate: addDays(today, 1), lines: c.agreementLines(20) });
    await runOn(stack, today);
    expect((await scheduleOf(stack, same.id))!.state).toBe('noticed');
    expect((await scheduleOf(stack, project.id))!).toMatchObject({ state: 'awaiting_approval', reason: 'contract_not_covered' });
    const ask = (await approvalOf(project.id))!;
    expect(reasonText('contract_not_covered', ask.detail as Record<string, unknown>, 'USD')).toBe(
      'has lines billed as Project (“Office move”), which this rule does not charge automatically',
    );
  });
});
