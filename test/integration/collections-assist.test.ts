// Collections Assist over 90 simulated days (2027-01-04 … 2027-04-03, workspace in America/New_York, the run
// at 10:00 local every day): eight clients of the MSP, each with one invoice due Wednesday 2027-01-20, each
// behaving differently — pays on the first reminder, pays late, promises then pays, promises then misses
// (chasing resumes), disputes from the portal, on autopay, a card chargeback opened on its part payment, and
// paused by staff then resumed. Every stop condition is asserted from the sends log and from what the SMTP
// test server received; quiet hours, weekends and a bank holiday (MLK day, 2027-01-18) hold reminders back;
// the last step escalates to staff; a second run the same day sends nothing twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineContext } from '../../src/engine/context.ts';
import { runCollections } from '../../src/engine/collections-assist/run.ts';
import { placeHold, releaseHold } from '../../src/engine/collections-assist/holds.ts';
import { saveCollectionSettings } from '../../src/engine/collections-assist/sequences.ts';
import { collectionResults } from '../../src/engine/collections-assist/results.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { apiFor, enableAutopay, newCompany, newInvoice, product, q, runOn, saveCard, scheduleOf } from '../helpers/autopay.ts';
import { portalPay } from './collections-helpers.ts';

let stack: Stack;
let smtp: TestSmtp;
let ctx: EngineContext;
let clock = new Date('2027-01-04T15:00:00Z');

const DUE = '2027-01-20';
const NAMES = ['first', 'late', 'promisePays', 'promiseMisses', 'disputes', 'autopay', 'chargeback', 'paused'] as const;
type Name = (typeof NAMES)[number];
const inv = {} as Record<Name, { id: string; clientId: string; number: string; email: string }>;

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ smtpUrl: smtp.url, companies: 1, invoices: 1 });
  // The simulated clock is Settle's own: the run, the portal (a promise's "today"), the autopay run all read it.
  ctx = stack.settle!.ctx;
  Object.assign(ctx, { now: () => clock });
  const api = apiFor(stack, await stack.apiKey());
  for (const n of NAMES) {
    const company = newCompany(stack, `Collections ${n}`);
    const i = await newInvoice(stack, company, {
      lines: [product('Managed services', '400.00'), product('Backup storage', '100.00')],
      date: '2027-01-04',
      dueDate: DUE,
    });
    const email = `ap@collections${n.toLowerCase()}.example`;
    inv[n] = { id: i.id, clientId: i.clientId, number: i.number, email };
  }
  await q(stack, async (tx) => {
    await tx
      .updateTable('tenants')
      .set({ settings: { timezone: 'America/New_York' } })
      .where('id', '=', stack.tenantId)
      .execute();
    // The seeded company's invoice is not part of the story: its client is not collected.
    await tx
      .updateTable('clients')
      .set({ collection_enabled: false })
      .where(
        'id',
        'not in',
        NAMES.map((n) => inv[n].clientId),
      )
      .execute();
    await saveCollectionSettings(tx, stack.tenantId, { enabled: true, businessDaysOnly: true, sendFrom: 8, sendUntil: 18 }, 'user:test');
  });
  // The autopay client: a saved card, autopay on, a rule charging on the due date. The schedule is planned now.
  await api('POST', '/autopay/rules', { name: 'Autopay client on the due date', client_id: inv.autopay.clientId });
  await saveCard(stack, api, inv.autopay.clientId);
  await enableAutopay(api, inv.autopay.clientId);
  await runOn(stack, '2027-01-04');
  expect((await scheduleOf(stack, inv.autopay.id))?.state).toMatch(/pending_notice|noticed/);
}, 180_000);
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

interface Sent {
  step_key: string;
  sent_on: string;
  outcome: string;
}
const sends = (n: Name): Promise<Sent[]> =>
  q(stack, (tx) =>
    tx.selectFrom('collection_sends').select(['step_key', 'sent_on', 'outcome']).where('invoice_id', '=', inv[n].id).orderBy('sent_on').execute(),
  );
const keys = async (n: Name): Promise<string[]> => (await sends(n)).filter((s) => s.outcome === 'queued').map((s) => s.step_key);

/** The client pays the whole invoice by card in the portal, on the simulated day (its success stamped then). */
async function pay(n: Name, amount?: string): Promise<string> {
  const token = await stack.portalToken(inv[n].clientId);
  const r = await portalPay(stack, token, [{ invoice_id: inv[n].id, ...(amount ? { amount } : {}) }]);
  const paymentId = r.paymentId!;
  await eventually(
    () => q(stack, async (tx) => (await tx.selectFrom('payments').select('state').where('id', '=', paymentId).executeTakeFirstOrThrow()).state === 'succeeded'),
    30_000,
    `payment of ${n} succeeded`,
  );
  // The processor's clock is real time; the story's is simulated: the success happened "today".
  await q(stack, (tx) => tx.updateTable('payments').set({ succeeded_at: clock }).where('id', '=', paymentId).execute());
  return paymentId;
}

async function portalPost(n: Name, path: 'promise' | 'dispute', body: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const token = await stack.portalToken(inv[n].clientId);
  const res = await fetch(`${stack.settleUrl}/portal/${token}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoice_id: inv[n].id, ...body }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Reminders the SMTP server received (every reminder subject names the MSP: "… from Acme IT"), to one address or all. */
const reminders = (to?: string) => smtp.received.filter((m) => m.subject.includes('from Acme IT') && (!to || m.to.includes(to)));

/** Move the simulated clock to 10:00 New York time on `date` (15:00 UTC in winter) and run. */
async function runOnDay(date: string) {
  clock = new Date(`${date}T15:00:00Z`);
  return runCollections(ctx, stack.tenantId);
}

describe('Collections Assist over 90 simulated days', () => {
  it('follows each client to the end, stopping and resuming as the facts say', async () => {
    let missedPromiseChecked = false;
    for (let d = '2027-01-04'; d <= '2027-04-03'; d = addDays(d, 1)) {
      const r = await runOnDay(d);
      // Same day again (a retry, a second worker): nothing is claimed twice.
      const again = await runCollections(ctx, stack.tenantId);
      expect(again.claimed).toBe(0);
      if (r.window && !r.window.open) expect(r.claimed).toBe(0);

      if (d === '2027-01-10') {
        // Sunday: the chargeback client pays half by card, then opens a chargeback on it.
        const paymentId = await pay('chargeback', '250.00');
        const intent = (await q(stack, (tx) => tx.selectFrom('payments').select('processor_payment_id').where('id', '=', paymentId).executeTakeFirstOrThrow()))
          .processor_payment_id!;
        stack.sims.stripe.sim.createDispute({ paymentIntent: intent, reason: 'product_not_received' });
        await eventually(
          () => q(stack, async (tx) => (await tx.selectFrom('disputes').select('status').executeTakeFirst())?.status === 'open'),
          30_000,
          'dispute open',
        );
        // Half is still owed: without the chargeback rule the rest would be chased.
        const row = await q(stack, (tx) =>
          tx.selectFrom('invoices').select(['status', 'paid_minor']).where('id', '=', inv.chargeback.id).executeTakeFirstOrThrow(),
        );
        expect(row).toMatchObject({ status: 'partially_paid', paid_minor: 25_000n });
      }
      if (d === '2027-01-12') {
        // Staff pause the paused client (on the phone: "our AP person is away").
        await q(stack, (tx) =>
          placeHold(
            tx,
            stack.tenantId,
            { clientId: inv.paused.clientId, invoiceId: null, kind: 'pause', note: 'AP away until February', source: 'staff' },
            d,
            'user:test',
          ),
        );
      }
      if (d === '2027-01-14') await pay('first');
      if (d === '2027-01-26') {
        // After the +3 reminder (sent Monday 01-25: +3 fell on Saturday) two clients promise from the portal.
        expect((await portalPost('promisePays', 'promise', { until_on: '2027-02-05', note: 'Cheque run on the 5th' })).status).toBe(200);
        expect((await portalPost('promiseMisses', 'promise', { until_on: '2027-02-01' })).status).toBe(200);
        // A date in the past is refused, and stores nothing.
        const bad = await portalPost('promiseMisses', 'promise', { until_on: '2027-01-01' });
        expect(bad.status).toBe(422);
      }
      if (d === '2027-01-21') {
        const noNote = await portalPost('disputes', 'dispute', { note: '' });
        expect(noNote.status).toBe(422);
        expect((await portalPost('disputes', 'dispute', { note: 'We were billed for 10 seats, we have 8' })).status).toBe(200);
      }
      if (d === '2027-02-01') {
        const held = await q(stack, (tx) =>
          tx
            .selectFrom('collection_holds')
            .select('id')
            .where('client_id', '=', inv.paused.clientId)
            .where('released_at', 'is', null)
            .executeTakeFirstOrThrow(),
        );
        await q(stack, (tx) => releaseHold(tx, stack.tenantId, held.id, 'resumed', 'user:test'));
      }
      if (d === '2027-02-03') {
        // Promise dates: promisePays's is still ahead; promiseMisses's (02-01) passed unpaid on 02-02.
        expect(await keys('promisePays')).toEqual(['pre_due_7', 'pre_due_3', 'due', 'overdue_3']);
        const missed = await sends('promiseMisses');
        expect(missed.filter((s) => s.sent_on > '2027-01-26' && s.sent_on < '2027-02-02')).toEqual([]);
        expect(missed.find((s) => s.sent_on === '2027-02-02')?.step_key).toBe('overdue_7');
        missedPromiseChecked = true;
        await pay('promisePays');
      }
      if (d === '2027-02-04') await pay('late'); // after the +14 reminder of 02-03
    }
    expect(missedPromiseChecked).toBe(true);

    // Weekends, MLK day and quiet hours: pre_due_3 (Sunday 01-17) went out Tuesday 01-19, after the holiday.
    expect((await sends('late')).map((s) => [s.step_key, s.sent_on])).toEqual([
      ['pre_due_7', '2027-01-13'],
      ['pre_due_3', '2027-01-19'],
      ['due', '2027-01-20'],
      ['overdue_3', '2027-01-25'],
      ['overdue_7', '2027-01-27'],
      ['escalated_14', '2027-02-03'],
    ]);
    // Pays on the first reminder: one reminder, then nothing.
    expect(await keys('first')).toEqual(['pre_due_7']);
    // Promised and paid before the date: nothing after the promise; the promise counts as kept.
    expect(await keys('promisePays')).toEqual(['pre_due_7', 'pre_due_3', 'due', 'overdue_3']);
    // Promised and missed: chasing resumed from +7 and ran to the escalation.
    expect(await keys('promiseMisses')).toEqual(['pre_due_7', 'pre_due_3', 'due', 'overdue_3', 'overdue_7', 'escalated_14', 'final_30', 'review_60']);
    // Disputed after the due-date reminder: nothing more.
    expect(await keys('disputes')).toEqual(['pre_due_7', 'pre_due_3', 'due']);
    // Autopay covers the invoice: never reminded.
    expect(await keys('autopay')).toEqual([]);
    // Chargeback opened on its part payment (before the first reminder): never reminded of the rest.
    expect(await keys('chargeback')).toEqual([]);
    // Paused 01-12 (before its first reminder), released 02-01 after that day's run: on 02-02 the latest step
    // ready then (+7) is sent — not the four it missed in a burst.
    const paused = await sends('paused');
    expect(paused[0]).toMatchObject({ step_key: 'overdue_7', sent_on: '2027-02-02' });
    expect(paused.map((s) => s.step_key)).toEqual(['overdue_7', 'escalated_14', 'final_30', 'review_60']);

    // The escalation: a needs-attention item for staff, open, about that invoice.
    const escalations = await q(stack, (tx) =>
      tx.selectFrom('exceptions').select(['kind', 'status', 'invoice_ids']).where('kind', '=', 'collections_escalated').execute(),
    );
    expect(escalations.map((e) => e.invoice_ids[0]).sort()).toEqual([inv.promiseMisses.id, inv.paused.id].sort());
    expect(escalations.every((e) => e.status === 'open')).toBe(true);

    // Steps marked "note in the PSA" (+14 and the escalation) wrote a company note in ConnectWise, its id kept.
    await eventually(
      async () => {
        const notes = await q(stack, (tx) =>
          tx
            .selectFrom('collection_sends')
            .select(['step_key', 'psa_note_id'])
            .where('invoice_id', '=', inv.promiseMisses.id)
            .where('step_key', 'in', ['escalated_14', 'review_60'])
            .execute(),
        );
        return notes.length === 2 && notes.every((n) => n.psa_note_id !== null);
      },
      30_000,
      'PSA notes written',
    );

    // Every reminder reached the SMTP server: one e-mail per client per day, to the billing address, naming the
    // invoice with its lines, open amount and a portal link.
    const queued = await q(stack, (tx) =>
      tx.selectFrom('notifications').select(['id', 'to_email', 'subject', 'body_text', 'status']).where('kind', '=', 'collection_reminder').execute(),
    );
    const expectedMails = (await Promise.all(NAMES.map(keys))).flat().length;
    expect(queued).toHaveLength(expectedMails);
    await eventually(async () => reminders().length >= expectedMails, 60_000, 'reminders at SMTP');
    expect(reminders()).toHaveLength(expectedMails);
    const toLate = reminders(inv.late.email);
    expect(toLate).toHaveLength(6);
    const escalatedMail = queued.find((n) => n.to_email === inv.late.email && n.subject.startsWith('Overdue'))!;
    expect(escalatedMail.body_text).toContain(`Invoice ${inv.late.number}, due ${DUE}, open $500.00 (PDF: `);
    expect(escalatedMail.body_text).toContain(`/invoices/${inv.late.id}/pdf)`);
    expect(escalatedMail.body_text).toContain('Managed services × 1: $400.00');
    expect(escalatedMail.body_text).toMatch(/\/portal\/[^/\s]+\/statement\.pdf/);
    for (const n of ['first', 'autopay', 'chargeback', 'disputes'] as const) {
      const afterStop = reminders(inv[n].email).length;
      expect(afterStop).toBe((await keys(n)).length);
    }

    // Results: the money each step brought in, and the promises.
    const results = await q(stack, (tx) => collectionResults(tx, stack.tenantId));
    const step = (k: string) => results.steps.filter((s) => s.stepKey === k);
    expect(step('pre_due_7')[0]).toMatchObject({ paid: 1, recoveredMinor: 50_000n, meanDaysToPay: 1 }); // first: 01-13 → 01-14
    expect(step('escalated_14')[0]).toMatchObject({ paid: 1, recoveredMinor: 50_000n, meanDaysToPay: 1 }); // late: 02-03 → 02-04
    expect(step('overdue_3')[0]).toMatchObject({ paid: 1, recoveredMinor: 50_000n, meanDaysToPay: 9 }); // promisePays: 01-25 → 02-03
    expect(results.promises).toMatchObject({ kept: 1, missed: 1 });
    expect(results.disputesOpen).toBe(1);
    const audit = await q(stack, (tx) => tx.selectFrom('audit_log').select('action').where('action', 'like', 'collections.%').execute());
    expect(new Set(audit.map((a) => a.action))).toEqual(
      new Set([
        'collections.settings_changed',
        'collections.pause_recorded',
        'collections.promise_recorded',
        'collections.dispute_recorded',
        'collections.hold_released',
        'collections.promise_kept',
        'collections.promise_missed',
        'collections.psa_note_written',
      ]),
    );
  }, 600_000);

  it('sends nothing outside the sending hours, and the statement PDF lists every open invoice', async () => {
    clock = new Date('2027-04-05T02:00:00Z'); // 22:00 in New York, a Sunday evening
    const r = await runCollections(ctx, stack.tenantId);
    expect(r.window?.open).toBe(false);
    expect(r.claimed).toBe(0);
    const token = await stack.portalToken(inv.promiseMisses.clientId);
    const pdf = await fetch(`${stack.settleUrl}/portal/${token}/statement.pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const refused = await fetch(`${stack.settleUrl}/portal/not-a-token/statement.pdf`);
    expect(refused.status).toBe(403);
  });
});
