// Benchmark — a Collections Assist run over 50,000 open invoices (issue #12): the run's time (the one
// set-based claim, then composing one e-mail per client through the outbox) and e-mails per second delivered
// through an SMTP server (test/helpers/smtp.ts, real SMTP over TCP) by the worker's `collections-send` job:
// batches claimed set-based, sent over the mailer's pooled connections, each row marked sent as it is accepted.
//
// Setup (not timed): 5,000 clients with a billing address, 50,000 open invoices (10 a client, one line each)
// whose due dates put every one of them on a step of the default sequence today (−7, −3, 0, +3, +7, +14, +30,
// +60 days), Collections Assist on with every hour and day open. Timed: `runCollections` as the
// `collections-run` job calls it, then until the SMTP server has every reminder. Checked: every invoice
// claimed once, one e-mail per client, each received once (distinct Message-IDs), and a second run the same
// day claims and sends nothing. BENCH_COLLECTIONS_INVOICES / BENCH_COLLECTIONS_PER_CLIENT change the size,
// BENCH_SMTP_CONNECTIONS the pool (default 5, as SETTLE_SMTP_CONNECTIONS).
import { sql } from 'kysely';
import os from 'node:os';
import { withTenant } from '../src/db/tenant.ts';
import { runCollections } from '../src/engine/collections-assist/run.ts';
import { saveCollectionSettings } from '../src/engine/collections-assist/sequences.ts';
import { createMailer } from '../src/notify/mailer.ts';
import { startTestSmtp } from '../test/helpers/smtp.ts';
import { benchMain, isMain } from './lib/main.ts';
import type { BenchResult } from './lib/result.ts';
import { startBenchStack } from './lib/stack.ts';

const INVOICES = Number(process.env.BENCH_COLLECTIONS_INVOICES ?? 50_000);
const PER_CLIENT = Number(process.env.BENCH_COLLECTIONS_PER_CLIENT ?? 10);
const CLIENTS = Math.ceil(INVOICES / PER_CLIENT);
const OFFSETS = [-7, -3, 0, 3, 7, 14, 30, 60];
/** The delivery wait gives up (and the bench fails, saying how many arrived) after this long. */
const DELIVERY_DEADLINE_MS = Number(process.env.BENCH_COLLECTIONS_DEADLINE_MS ?? 600_000);

export async function run(pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  const smtp = await startTestSmtp();
  const stack = await startBenchStack({ pgServerUrl, label: 'collections', companies: 2, invoices: 2, worker: true, mirrorBooks: false });
  const causes: string[] = [];
  try {
    const { settle, tenantId, db } = stack;
    // Settle's mailer to the bench's SMTP server (the stack is built without SETTLE_SMTP_URL).
    Object.assign(settle.ctx, { mailer: createMailer(smtp.url, { connections: Number(process.env.BENCH_SMTP_CONNECTIONS ?? 5) }) });
    const ctx = settle.ctx;
    const today = new Date().toISOString().slice(0, 10);
    const t0 = performance.now();
    await withTenant(db, tenantId, async (tx) => {
      await tx.updateTable('clients').set({ collection_enabled: false }).execute(); // the stack's own seed is not measured
      await sql`
        INSERT INTO clients (tenant_id, name, identifier, billing_email)
        SELECT ${tenantId}, 'Bench client ' || g, 'BENCH' || g, 'ap' || g || '@client.example' FROM generate_series(1, ${CLIENTS}) g`.execute(tx);
      await sql`
        WITH c AS (SELECT id, row_number() OVER (ORDER BY identifier) AS n FROM clients WHERE identifier LIKE 'BENCH%')
        INSERT INTO invoices (tenant_id, client_id, number, type, currency, total_minor, psa_balance_minor, status, psa_status, issued_on, due_on, psa_updated_at)
        SELECT ${tenantId}, c.id, 'CA-' || lpad(g::text, 6, '0'), 'Standard', 'USD', 10000 + (g % 90000), 10000 + (g % 90000), 'open', 'Open',
               ${today}::date - 90, ${today}::date - (${sql.raw(`ARRAY[${OFFSETS.join(',')}]`)})[1 + g % ${OFFSETS.length}], now()
          FROM generate_series(1, ${INVOICES}) g JOIN c ON c.n = 1 + (g % ${CLIENTS})`.execute(tx);
      await sql`
        INSERT INTO invoice_lines (tenant_id, invoice_id, version, line_no, external_id, kind, description, quantity, amount_minor)
        SELECT tenant_id, id, 1, 1, id::text, 'product', 'Managed services', 1, total_minor FROM invoices WHERE number LIKE 'CA-%'`.execute(tx);
      await saveCollectionSettings(tx, tenantId, { enabled: true, businessDaysOnly: false, sendFrom: 0, sendUntil: 24 }, 'system:bench');
    });
    await sql`ANALYZE`.execute(db);
    const setupMs = performance.now() - t0;

    // When the first reminder reached the SMTP server (polled; sending starts while the run still composes).
    let firstAt: number | null = null;
    const watch = setInterval(() => {
      if (firstAt === null && smtp.received.some((m) => m.to[0]?.endsWith('@client.example'))) firstAt = performance.now();
    }, 50);
    const t1 = performance.now();
    const first = await runCollections(ctx, tenantId);
    const runMs = performance.now() - t1;
    const notifications = await withTenant(db, tenantId, async (tx) =>
      Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM notifications WHERE kind = 'collection_reminder'`.execute(tx)).rows[0]!.n),
    );
    // Delivered: every reminder at the SMTP server (the worker's collections-send job over the SMTP pool).
    const deadline = Date.now() + DELIVERY_DEADLINE_MS;
    const reminders = () => smtp.received.filter((m) => m.to[0]?.endsWith('@client.example'));
    while (reminders().length < notifications && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const deliveredMs = performance.now() - t1;
    clearInterval(watch);
    // The sender's own pace: first to last delivery (the run's compose phase overlaps the start of it).
    const sendingMs = firstAt === null ? deliveredMs : performance.now() - firstAt;
    const received = reminders();
    const again = await runCollections(ctx, tenantId);
    const afterAgain = await withTenant(db, tenantId, async (tx) =>
      Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM notifications WHERE kind = 'collection_reminder'`.execute(tx)).rows[0]!.n),
    );
    const distinct = new Set(received.map((m) => m.messageId)).size;

    if (first.claimed !== INVOICES) causes.push(`claimed ${first.claimed} of ${INVOICES} invoices (each is on a step today)`);
    if (notifications !== CLIENTS) causes.push(`${notifications} e-mails queued for ${CLIENTS} clients (one a client a day)`);
    if (received.length < notifications)
      causes.push(`only ${received.length} of ${notifications} e-mails reached the SMTP server in ${DELIVERY_DEADLINE_MS / 1000} s`);
    if (distinct !== received.length) causes.push(`${received.length - distinct} e-mails received twice`);
    if (again.claimed !== 0 || afterAgain !== notifications) causes.push(`a second run claimed ${again.claimed} and queued ${afterAgain - notifications} more`);
    const perSecond = received.length / (deliveredMs / 1000);
    const sendingPerSecond = received.length / (sendingMs / 1000);
    const pass = causes.length === 0;
    return {
      name: 'collections-assist',
      target: `a run over ${INVOICES.toLocaleString('en-US')} open invoices claims each due step once, one e-mail per client, every one delivered once; time and e-mails per second reported`,
      pass,
      figures: {
        invoices: INVOICES,
        clients: CLIENTS,
        setupMs: Math.round(setupMs),
        runMs: Math.round(runMs),
        claimed: first.claimed,
        emailsQueued: notifications,
        emailsReceived: received.length,
        runToLastDeliveryMs: Math.round(deliveredMs),
        emailsPerSecond: Math.round(perSecond * 10) / 10,
        firstToLastDeliveryMs: Math.round(sendingMs),
        sendingEmailsPerSecond: Math.round(sendingPerSecond * 10) / 10,
        secondRunClaimed: again.claimed,
        smtpConnections: ctx.mailer.connections,
        load1: Math.round(os.loadavg()[0]! * 10) / 10,
      },
      headline: [
        { label: 'run (claim + compose)', value: `${(runMs / 1000).toFixed(1)} s`, target: 'reported', pass: first.claimed === INVOICES },
        { label: 'e-mails per second (run start → last delivery)', value: perSecond.toFixed(1), target: 'reported', pass: received.length === notifications },
        {
          label: 'e-mails per second (first → last delivery)',
          value: sendingPerSecond.toFixed(1),
          target: 'reported',
          pass: received.length === notifications,
        },
        {
          label: 'sent twice',
          value: String(received.length - distinct + again.claimed),
          target: '0',
          pass: distinct === received.length && again.claimed === 0,
        },
      ],
      notes: pass
        ? [
            `${CLIENTS} e-mails for ${INVOICES} invoices; sent in batches over ${ctx.mailer.connections} pooled SMTP connections; load ${os.loadavg()[0]!.toFixed(1)}`,
          ]
        : causes,
      wallMs: Math.round(performance.now() - started),
      primary: 'runMs',
    };
  } finally {
    await stack.close();
    await smtp.close();
  }
}

if (isMain(import.meta.url)) void benchMain(run);
