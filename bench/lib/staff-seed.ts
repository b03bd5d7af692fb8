// The book bench/staff-pages.ts measures the staff pages on: one workspace with 10,000 clients, 1,000,000
// invoices over the last two years and 5,000,000 invoice lines, with the payments, allocations and PSA
// write-backs an MSP collecting through Settle would have. Written with set-based SQL (generate_series into
// temporary tables, then one INSERT … SELECT per table) as the application role, under row-level security
// (settle.tenant_id set for the session, as db/tenant.ts does per transaction), so every row passes the same
// policies and constraints as Settle's own writes. A few minutes on two busy cores.
//
// Shape (deterministic counts, random draws within them):
// - clients: "<Place> <Trade> <Form> <n>" names (search "dental" finds one client in 12, "4242" one client);
//   one in 20 bills in CAD; three in 10 on autopay. Invoice counts are skewed: a few clients have thousands.
// - invoices INV-0000001 … INV-1000000 in date order over 730 days up to today; due 30 days after issue (15 for
//   one in four, none for one in 50). Older than 60 days: ~95 % paid, 3 % open, 0.5 % partly paid, void and
//   credit memos; the last 60 days: ~40 % paid, 50 % open. Amounts $50 – $20,000, most small.
// - 60 % of paid invoices and every part-paid one were paid through Settle: a succeeded payment (card 60 %,
//   ACH 40 %, with the processor's fee), its allocation and its posted PSA write-back; one in 30 of them was
//   declined once the day before. The rest were paid in the PSA only.
// - five lines per invoice (version 1), one stored version, and the PSA ids (external_refs).
import crypto from 'node:crypto';
import pg from 'pg';
import { hashPassword } from '../../src/http/passwords.ts';

export interface SeedShape {
  readonly clients: number;
  readonly invoices: number;
  readonly linesPerInvoice: number;
}

export const FULL_SHAPE: SeedShape = { clients: 10_000, invoices: 1_000_000, linesPerInvoice: 5 };

export interface SeededWorkspace {
  readonly tenantId: string;
  readonly slug: string;
  readonly email: string;
  readonly password: string;
}

const SLUG = 'bench-staff';
const SEEDED_TABLES = ['clients', 'invoices', 'invoice_lines', 'invoice_versions', 'payments', 'allocations', 'postings', 'external_refs'];
const EMAIL = 'owner@bench.test';

/** Seeds the book into an empty, migrated database; returns how to sign in and how long each step took. */
export async function seedStaffBook(url: string, shape: SeedShape, log: (m: string) => void): Promise<SeededWorkspace & { steps: Record<string, number> }> {
  const password = crypto.randomBytes(12).toString('base64url');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const steps: Record<string, number> = {};
  const step = async (name: string, text: string, values: unknown[] = []): Promise<void> => {
    const t0 = performance.now();
    await c.query(text, values);
    steps[name] = Math.round(performance.now() - t0);
    log(`seed: ${name} ${(steps[name] / 1000).toFixed(1)} s`);
  };
  try {
    // A seed lost to a crash is simply redone: no need to wait for each commit's flush.
    await c.query(`SET synchronous_commit = off`);
    await c.query(`SET maintenance_work_mem = '256MB'`);
    await c.query(`SET work_mem = '64MB'`);
    const tenant = await c.query<{ id: string }>(
      `INSERT INTO tenants (slug, name, settings) VALUES ($1, 'Bench MSP (1M invoices)', '{"timezone":"America/Chicago"}') RETURNING id`,
      [SLUG],
    );
    const tenantId = tenant.rows[0]!.id;
    await c.query(`SELECT set_config('settle.tenant_id', $1, false)`, [tenantId]);
    // The secondary indexes are dropped for the load and built again after it, as pg_restore does: one sorted
    // build per index instead of a million scattered insertions into each (several times faster). Indexes
    // that back a constraint (primary keys, unique) stay, and the same definitions come back.
    const secondary = await c.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)`,
      [SEEDED_TABLES],
    );
    for (const ix of secondary.rows) await c.query(`DROP INDEX ${c.escapeIdentifier(ix.name)}`);
    await c.query(`INSERT INTO users (tenant_id, email, name, role, password_hash) VALUES ($1, $2, 'Bench owner', 'owner', $3)`, [
      tenantId,
      EMAIL,
      await hashPassword(password),
    ]);
    await step(
      'clients',
      `CREATE TEMP TABLE seed_clients AS
         SELECT n, gen_random_uuid() AS id,
                (ARRAY['Acme','Blue Ridge','Cedar','Delta','Evergreen','Fairview','Granite','Harbor','Ironwood','Juniper',
                       'Keystone','Lakeside','Maple','Northwind','Oakridge','Pinnacle','Quarry','Riverside','Summit','Tidewater'])[1 + n % 20]
                || ' ' || (ARRAY['Dental','Legal','Logistics','Accounting','Clinic','Manufacturing','Realty','Insurance',
                                 'Engineering','Foods','Architects','Veterinary'])[1 + (n / 20) % 12]
                || ' ' || (ARRAY['LLC','Inc','Group','Partners','Co'])[1 + (n / 240) % 5] || ' ' || n AS name,
                CASE WHEN n % 20 = 7 THEN 'CAD' ELSE 'USD' END AS currency,
                n % 10 < 3 AS autopay
           FROM generate_series(1, ${shape.clients}) n;
       INSERT INTO clients (id, tenant_id, name, identifier, billing_email, region, country, autopay_enabled, created_at, updated_at)
         SELECT id, settle_current_tenant(), name, 'C' || lpad(n::text, 5, '0'), 'ap' || n || '@client.example',
                CASE currency WHEN 'CAD' THEN 'ON' ELSE 'TX' END, CASE currency WHEN 'CAD' THEN 'CA' ELSE 'US' END,
                autopay, now() - interval '800 days', now() - interval '800 days'
           FROM seed_clients;
       INSERT INTO external_refs (tenant_id, entity, entity_id, system, remote_id)
         SELECT settle_current_tenant(), 'client', id, 'connectwise', n::text FROM seed_clients;`,
    );
    // Each invoice's draws, kept so that payments, allocations and lines agree with the invoice.
    await step(
      'invoice draws',
      `CREATE TEMP TABLE seed_inv AS
         WITH d AS (
           SELECT g, gen_random_uuid() AS id,
                  1 + floor(${shape.clients} * power(random(), 1.8))::int AS cn,
                  current_date - 729 + floor(730 * (g - 1)::float8 / ${shape.invoices})::int AS issued_on,
                  random() AS r, random() AS r2, random() AS r3,
                  (5000 + floor(power(random(), 3) * 1995000))::bigint AS amount
             FROM generate_series(1, ${shape.invoices}) g
         ), s AS (
           SELECT d.*, current_date - issued_on AS age,
                  CASE WHEN current_date = issued_on THEN 'open' -- nothing issued today is paid yet
                       WHEN current_date - issued_on > 60 THEN
                         CASE WHEN r < 0.955 THEN 'paid' WHEN r < 0.985 THEN 'open' WHEN r < 0.99 THEN 'partially_paid'
                              WHEN r < 0.995 THEN 'void' ELSE 'credit' END
                       ELSE
                         CASE WHEN r < 0.40 THEN 'paid' WHEN r < 0.90 THEN 'open' WHEN r < 0.95 THEN 'partially_paid'
                              WHEN r < 0.99 THEN 'void' ELSE 'credit' END
                  END AS status
             FROM d
         )
         SELECT s.*, c.id AS client_id, c.currency, c.autopay,
                CASE WHEN g % 50 = 0 THEN NULL ELSE issued_on + CASE WHEN g % 4 = 0 THEN 15 ELSE 30 END END AS due_on,
                (status = 'paid' AND r2 < 0.6) OR status = 'partially_paid' AS via_settle,
                CASE WHEN status = 'partially_paid' THEN amount / 2 ELSE amount END AS paid_amount,
                -- paid 3–55 days after issue at a working hour in Chicago
                -- (by yesterday at the latest: a paid invoice is at least a day old)
                ((issued_on + greatest(1, least(age - 1, 3 + floor(r3 * 52)::int)))::timestamp + interval '9 hours' + (r2 * interval '8 hours'))
                  AT TIME ZONE 'America/Chicago' AS paid_at,
                least(issued_on::timestamptz + interval '18 hours', now() - interval '1 hour') AS seen_at,
                r3 < 0.6 AS card
           FROM s JOIN seed_clients c ON c.n = s.cn;
       ALTER TABLE seed_inv ADD PRIMARY KEY (g);
       ANALYZE seed_inv;`,
    );
    await step(
      'invoices',
      `INSERT INTO invoices (id, tenant_id, client_id, number, type, currency, total_minor, psa_balance_minor, paid_minor, status, psa_status,
                             issued_on, due_on, current_version, psa_updated_at, first_seen_at, updated_at, psa_fetched_at)
         SELECT id, settle_current_tenant(), client_id, 'INV-' || lpad(g::text, 7, '0'),
                CASE status WHEN 'credit' THEN 'credit_memo' ELSE 'invoice' END, currency,
                CASE status WHEN 'credit' THEN -amount ELSE amount END,
                CASE status WHEN 'open' THEN amount WHEN 'partially_paid' THEN amount - paid_amount ELSE 0 END,
                CASE WHEN via_settle THEN paid_amount ELSE 0 END,
                status,
                CASE status WHEN 'paid' THEN 'Paid' WHEN 'open' THEN 'Open' WHEN 'partially_paid' THEN 'Partially Paid'
                            WHEN 'void' THEN 'Void' ELSE 'Credit' END,
                issued_on, due_on, 1,
                CASE WHEN status IN ('paid', 'partially_paid') THEN paid_at + interval '2 minutes' ELSE seen_at END,
                seen_at, seen_at, seen_at
           FROM seed_inv ORDER BY g`,
    );
    await step(
      'payments',
      `CREATE TEMP TABLE seed_pay AS SELECT g, gen_random_uuid() AS payment_id, gen_random_uuid() AS declined_id FROM seed_inv WHERE via_settle;
       INSERT INTO payments (id, tenant_id, client_id, currency, amount_minor, fee_minor, state, planned_allocations, source, processor,
                             processor_payment_id, method_kind, method_brand, method_last4, succeeded_at, created_at, updated_at, final_after)
         SELECT p.payment_id, settle_current_tenant(), i.client_id, i.currency, i.paid_amount,
                CASE WHEN i.card THEN round(i.paid_amount * 0.029)::bigint + 30 ELSE least(round(i.paid_amount * 0.008)::bigint, 500) END,
                'succeeded', jsonb_build_array(jsonb_build_object('invoiceId', i.id, 'amountMinor', i.paid_amount::text)),
                CASE WHEN i.autopay THEN 'autopay' ELSE 'portal' END, 'stripe', 'pi_bench_' || i.g,
                CASE WHEN i.card THEN 'card' ELSE 'us_bank_account' END, CASE WHEN i.card THEN 'visa' END,
                lpad((i.g % 10000)::text, 4, '0'),
                i.paid_at, i.paid_at - interval '3 seconds', i.paid_at,
                CASE WHEN NOT i.card THEN (i.paid_at AT TIME ZONE 'America/Chicago')::date + 60 END
           FROM seed_pay p JOIN seed_inv i USING (g);
       INSERT INTO payments (id, tenant_id, client_id, currency, amount_minor, state, planned_allocations, source, processor,
                             processor_payment_id, method_kind, method_brand, method_last4, failure_code, failure_message, created_at, updated_at)
         SELECT p.declined_id, settle_current_tenant(), i.client_id, i.currency, i.paid_amount, 'failed',
                jsonb_build_array(jsonb_build_object('invoiceId', i.id, 'amountMinor', i.paid_amount::text)),
                CASE WHEN i.autopay THEN 'autopay' ELSE 'portal' END, 'stripe', 'pi_bench_declined_' || i.g, 'card', 'visa', '0002',
                'card_declined', 'Your card was declined.', i.paid_at - interval '1 day', i.paid_at - interval '1 day'
           FROM seed_pay p JOIN seed_inv i USING (g) WHERE i.g % 30 = 0;`,
    );
    await step(
      'allocations and write-backs',
      `INSERT INTO allocations (tenant_id, payment_id, invoice_id, amount_minor, created_at)
         SELECT settle_current_tenant(), p.payment_id, i.id, i.paid_amount, i.paid_at FROM seed_pay p JOIN seed_inv i USING (g);
       INSERT INTO postings (tenant_id, target, vendor, kind, payment_id, invoice_id, amount_minor, currency, idempotency_key, status,
                             remote_id, attempts, next_attempt_at, created_at, posted_at)
         SELECT settle_current_tenant(), 'psa', 'connectwise', 'payment', p.payment_id, i.id, i.paid_amount, i.currency,
                'bench:psa:' || i.g, 'posted', (900000 + i.g)::text, 1, i.paid_at, i.paid_at, i.paid_at + interval '1 minute'
           FROM seed_pay p JOIN seed_inv i USING (g);`,
    );
    await step(
      'invoice lines',
      `INSERT INTO invoice_lines (tenant_id, invoice_id, version, line_no, external_id, kind, description, quantity, amount_minor)
         SELECT settle_current_tenant(), i.id, 1, l, i.g || '-' || l,
                (ARRAY['agreement','product','product','time','expense'])[1 + (l - 1) % 5],
                (ARRAY['Managed services — per seat','Microsoft 365 Business Premium','Backup and disaster recovery',
                       'On-site labour','Travel'])[1 + (l - 1) % 5],
                CASE WHEN l % 5 = 2 THEN '25' ELSE '1' END,
                CASE WHEN l < ${shape.linesPerInvoice} THEN t / ${shape.linesPerInvoice} ELSE t - (${shape.linesPerInvoice} - 1) * (t / ${shape.linesPerInvoice}) END
           FROM (SELECT id, g, CASE status WHEN 'credit' THEN -amount ELSE amount END AS t FROM seed_inv) i
           CROSS JOIN generate_series(1, ${shape.linesPerInvoice}) l`,
    );
    await step(
      'versions and PSA ids',
      `INSERT INTO invoice_versions (tenant_id, invoice_id, version, content_hash, total_minor, snapshot, received_at)
         SELECT settle_current_tenant(), id, 1, md5(id::text), CASE status WHEN 'credit' THEN -amount ELSE amount END,
                jsonb_build_object('number', 'INV-' || lpad(g::text, 7, '0'), 'currency', currency, 'issuedOn', issued_on::text,
                                   'total', amount::text),
                seen_at
           FROM seed_inv;
       INSERT INTO external_refs (tenant_id, entity, entity_id, system, remote_id)
         SELECT settle_current_tenant(), 'invoice', id, 'connectwise', g::text FROM seed_inv;`,
    );
    const t0 = performance.now();
    for (const ix of secondary.rows) await c.query(ix.def);
    steps['indexes'] = Math.round(performance.now() - t0);
    log(`seed: ${secondary.rows.length} indexes built again ${(steps['indexes'] / 1000).toFixed(1)} s`);
    // As autovacuum would leave a settled table: statistics, and the visibility map index-only scans need.
    await step('vacuum analyze', `VACUUM (ANALYZE) clients, invoices, invoice_lines, invoice_versions, payments, allocations, postings, external_refs`);
    return { tenantId, slug: SLUG, email: EMAIL, password, steps };
  } finally {
    await c.end();
  }
}
