// Collections Assist, sending (engine/collections-assist/send.ts): reminders go to the SMTP test server in
// batches over the pooled connections, each exactly once — across a sender that dies mid-batch (its sent
// rows stay sent, the rest wait out the lease and go once), a relay that refuses for a while (kept, tried
// again, staff told after three tries, the item closes itself when the relay accepts) and an invoice paid
// while its reminder waited (never sent). A step that attaches the statement puts the PDF in the e-mail:
// the test reads the received MIME and the PDF's own text.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineContext } from '../../src/engine/context.ts';
import { runCollections } from '../../src/engine/collections-assist/run.ts';
import { FAILING_AFTER, sendReminders } from '../../src/engine/collections-assist/send.ts';
import { saveCollectionSettings } from '../../src/engine/collections-assist/sequences.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import type { Mailer } from '../../src/notify/mailer.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { mimeParts } from '../helpers/mime.ts';
import { pdfText } from '../helpers/pdf-text.ts';
import { q } from '../helpers/autopay.ts';

let stack: Stack;
let smtp: TestSmtp;
let ctx: EngineContext;
let real: Mailer;
const clock = new Date('2026-12-07T15:00:00Z');
const TODAY = '2026-12-07';

/** The relay as a test controls it: passes `pass` more messages, then holds (a dead sender) or refuses. */
const gate = { pass: Number.POSITIVE_INFINITY, mode: 'hold' as 'hold' | 'refuse', held: [] as ((e: Error) => void)[] };
const gated = (): Mailer => ({
  configured: true,
  connections: 5,
  close: () => {},
  send: async (email) => {
    if (gate.pass <= 0) {
      if (gate.mode === 'refuse') throw new Error('550 5.7.1 Relaying denied for settle@acme.test');
      return new Promise<void>((_resolve, reject) => gate.held.push(reject));
    }
    gate.pass--;
    return real.send(email);
  },
});

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ smtpUrl: smtp.url, companies: 1, invoices: 1 });
  ctx = stack.settle!.ctx;
  real = ctx.mailer;
  // The worker's sender and the test's share this context: its clock and its relay.
  Object.assign(ctx, { now: () => clock, mailer: gated() });
  await q(stack, async (tx) => {
    await tx.updateTable('clients').set({ collection_enabled: false }).execute(); // the seeded company is not in these stories
    await saveCollectionSettings(tx, stack.tenantId, { enabled: true, businessDaysOnly: false, sendFrom: 0, sendUntil: 24 }, 'user:test');
  });
}, 180_000);
afterAll(async () => {
  for (const reject of gate.held.splice(0)) reject(new Error('test over'));
  await stack?.close();
  await smtp?.close();
  real?.close();
});

/** `n` clients of group `g`, one invoice each, due three days before today (the +3 step is due now). */
async function seedGroup(g: string, n: number): Promise<void> {
  await q(stack, async (tx) => {
    await tx.updateTable('clients').set({ collection_enabled: false }).execute();
    await sql`
      INSERT INTO clients (tenant_id, name, identifier, billing_email)
      SELECT ${stack.tenantId}, 'Client ' || ${g} || '-' || x, ${g} || '-' || x, ${g} || x || '@sending.example'
        FROM generate_series(1, ${n}) x`.execute(tx);
    await sql`
      INSERT INTO invoices (tenant_id, client_id, number, type, currency, total_minor, psa_balance_minor, status, psa_status, issued_on, due_on, psa_updated_at)
      SELECT ${stack.tenantId}, c.id, upper(c.identifier), 'Standard', 'USD', 25000, 25000, 'open', 'Open', ${addDays(TODAY, -33)}::date, ${addDays(TODAY, -3)}::date, now()
        FROM clients c WHERE c.identifier LIKE ${`${g}-%`}`.execute(tx);
    await sql`
      INSERT INTO invoice_lines (tenant_id, invoice_id, version, line_no, external_id, kind, description, quantity, amount_minor)
      SELECT i.tenant_id, i.id, 1, 1, i.id::text, 'product', 'Managed services', 1, 25000
        FROM invoices i JOIN clients c ON c.id = i.client_id WHERE c.identifier LIKE ${`${g}-%`}`.execute(tx);
  });
}

const received = (g: string) => smtp.received.filter((m) => m.to[0]?.startsWith(g) && m.to[0].endsWith('@sending.example'));
const outbox = (g: string) =>
  q(stack, (tx) =>
    tx.selectFrom('notifications').select(['id', 'status', 'to_email', 'attempts', 'last_error']).where('to_email', 'like', `${g}%@sending.example`).execute(),
  );
/** The leases and back-offs of group g's waiting reminders run out, as if their minutes had passed (they are on
 *  the database's clock, which a test cannot move). */
const timePasses = (g: string) =>
  q(stack, (tx) =>
    sql`UPDATE notifications SET sending_until = now() - interval '1 second' WHERE to_email LIKE ${`${g}%@sending.example`} AND status = 'pending'`.execute(tx),
  );
const once = (g: string): void => {
  const ids = received(g).map((m) => m.messageId);
  expect(new Set(ids).size).toBe(ids.length);
};

describe('Collections Assist sending', () => {
  it('a sender that dies mid-batch: what it sent stays sent, the rest goes once after the lease, none twice', async () => {
    await seedGroup('crash', 30);
    gate.pass = 12;
    gate.mode = 'hold';
    const run = await runCollections(ctx, stack.tenantId);
    expect(run).toMatchObject({ claimed: 30, emails: 30 });
    // The worker's sender delivers twelve, then hangs on the rest as a killed process would.
    await eventually(
      async () => received('crash').length === 12 && (await outbox('crash')).filter((n) => n.status === 'sent').length === 12,
      60_000,
      '12 sent',
    );
    await eventually(async () => gate.held.length > 0, 30_000, 'the sender holding the rest');
    // A second sender while the lease holds: nothing to claim (the dead one's rows are not sent twice).
    Object.assign(ctx, { mailer: real });
    expect(await sendReminders(ctx, stack.tenantId)).toMatchObject({ sent: 0 });
    // The lease over, the next sender sends the eighteen once.
    await timePasses('crash');
    expect(await sendReminders(ctx, stack.tenantId)).toMatchObject({ sent: 18, failed: 0 });
    // The dead sender's connections fail at last: a sent row stays sent.
    for (const reject of gate.held.splice(0)) reject(new Error('connection lost'));
    await eventually(async () => (await outbox('crash')).every((n) => n.status === 'sent' && n.last_error === null), 30_000, 'all 30 sent');
    expect(received('crash')).toHaveLength(30);
    expect(new Set(received('crash').map((m) => m.to[0])).size).toBe(30);
    once('crash');
    // A run again the same day claims nothing.
    expect(await runCollections(ctx, stack.tenantId)).toMatchObject({ claimed: 0, emails: 0 });
    expect(received('crash')).toHaveLength(30);
  }, 180_000);

  it('a relay that refuses: kept and tried again, staff told, the item closes itself; an invoice paid meanwhile is never reminded', async () => {
    await seedGroup('refuse', 6);
    gate.pass = 0;
    gate.mode = 'refuse';
    Object.assign(ctx, { mailer: gated() });
    expect(await runCollections(ctx, stack.tenantId)).toMatchObject({ claimed: 6, emails: 6 });
    const failing = () =>
      q(stack, (tx) => tx.selectFrom('exceptions').select(['status', 'title', 'detail']).where('kind', '=', 'collections_email_failing').executeTakeFirst());
    for (let i = 0; i < 20 && (await failing())?.status !== 'open'; i++) {
      await sendReminders(ctx, stack.tenantId);
      await timePasses('refuse');
    }
    const item = await failing();
    expect(item?.status).toBe('open');
    expect(item?.detail).toContain('Relaying denied');
    const waiting = await outbox('refuse');
    expect(waiting.every((n) => n.status === 'pending' && n.attempts >= FAILING_AFTER)).toBe(true);
    expect(received('refuse')).toHaveLength(0);
    // Client refuse-1 pays while its reminder waits.
    await q(stack, (tx) =>
      sql`UPDATE invoices SET status = 'paid', psa_balance_minor = 0 WHERE number = 'REFUSE-1' AND tenant_id = ${stack.tenantId}`.execute(tx),
    );
    // The relay accepts again — but it is now outside the sending hours: a retry waits for them.
    gate.pass = Number.POSITIVE_INFINITY;
    await timePasses('refuse');
    const hours = (sendFrom: number, sendUntil: number) =>
      q(stack, (tx) => saveCollectionSettings(tx, stack.tenantId, { enabled: true, businessDaysOnly: false, sendFrom, sendUntil }, 'user:test'));
    await hours(0, 1); // the clock says 15:00 UTC
    expect(await sendReminders(ctx, stack.tenantId)).toMatchObject({ sent: 0 });
    expect(received('refuse')).toHaveLength(0);
    await hours(0, 24);
    // (A sender the worker started meanwhile may take some of them: the outbox and the relay tell, not a count.)
    await sendReminders(ctx, stack.tenantId);
    await eventually(async () => (await outbox('refuse')).every((n) => n.status !== 'pending'), 30_000, 'none waiting');
    expect(
      received('refuse')
        .map((m) => m.to[0])
        .sort(),
    ).toEqual(['refuse2', 'refuse3', 'refuse4', 'refuse5', 'refuse6'].map((x) => `${x}@sending.example`));
    once('refuse');
    const paid = (await outbox('refuse')).find((n) => n.to_email === 'refuse1@sending.example')!;
    expect(paid.status).toBe('skipped');
    expect(paid.last_error).toContain('closed');
    expect((await failing())?.status).toBe('resolved');
  }, 180_000);

  it('a step that attaches the statement: the PDF is in the e-mail, listing every open invoice with its aging', async () => {
    clock.setTime(Date.parse('2026-12-08T15:00:00Z'));
    await seedGroup('attach', 2);
    Object.assign(ctx, { mailer: real });
    // The steps from +3 on attach the statement now; attach-2 has a second invoice, 45 days late (its +30 step).
    await q(stack, async (tx) => {
      await tx.updateTable('collection_steps').set({ attach_statement: true, statement_attached: true }).where('offset_days', '>=', 3).execute();
      await sql`
        INSERT INTO invoices (tenant_id, client_id, number, type, currency, total_minor, psa_balance_minor, status, psa_status, issued_on, due_on, psa_updated_at)
        SELECT tenant_id, id, 'ATTACH-OLD', 'Standard', 'USD', 99900, 99900, 'open', 'Open', '2026-10-01', '2026-10-24', now()
          FROM clients WHERE identifier = 'attach-2'`.execute(tx);
      await sql`UPDATE invoices SET due_on = '2026-12-05' WHERE number LIKE 'ATTACH-_'`.execute(tx);
    });
    expect(await runCollections(ctx, stack.tenantId)).toMatchObject({ emails: 2 });
    await eventually(async () => received('attach').length === 2, 60_000, 'two reminders with the statement');
    const mail = received('attach').find((m) => m.to[0] === 'attach2@sending.example')!;
    const parts = mimeParts(mail.raw);
    const pdfs = parts.filter((p) => p.type === 'application/pdf');
    expect(pdfs).toHaveLength(1);
    expect(pdfs[0]!.filename).toBe('statement-2026-12-08.pdf');
    expect(pdfs[0]!.body.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdfs[0]!.body);
    expect(text).toContain('Statement of account for Client attach-2');
    expect(text).toContain('ATTACH-2');
    expect(text).toContain('ATTACH-OLD');
    expect(text).toContain('$999.00'); // 45 days late: the 31–60 bucket
    expect(text).toContain('$1,249.00'); // the total of both
    // The body says it is attached and keeps the link.
    const body = parts.find((p) => p.type === 'text/plain')!.body.toString('utf8');
    expect(body).toContain('Your statement of account is attached (PDF)');
    expect(body).toContain('/statement.pdf');
    // attach-1 has one open invoice: its own statement, not attach-2's.
    const other = pdfText(
      mimeParts(received('attach').find((m) => m.to[0] === 'attach1@sending.example')!.raw).find((p) => p.type === 'application/pdf')!.body,
    );
    expect(other).toContain('ATTACH-1');
    expect(other).not.toContain('ATTACH-OLD');
  }, 180_000);
});
