-- Three-way reconciliation (issue #11). Settle keeps its own copy of the ledger's invoices, payments and
-- deposits, kept current incrementally (QuickBooks Online CDC; Xero If-Modified-Since; QuickBooks Desktop
-- modified-date iterators — connectors/accounting/ledger-copy.ts), so the report compares PSA, Settle and
-- books without a single vendor call: a 100,000-invoice report never waits on a rate limit. The copy's cursor
-- lives in sync_cursors (name 'books-copy:<vendor>'). A deleted record stays as a row with deleted = true, so
-- the report can say "deleted in the books" rather than "never there".
CREATE TABLE books_invoices (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  vendor text NOT NULL,
  remote_id text NOT NULL,
  number text NOT NULL,
  customer_remote_id text,
  currency text NOT NULL,
  total_minor bigint NOT NULL,
  balance_minor bigint NOT NULL,
  voided boolean NOT NULL DEFAULT false,
  deleted boolean NOT NULL DEFAULT false,
  remote_updated_at timestamptz,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, vendor, remote_id)
);
CREATE INDEX books_invoices_number ON books_invoices (tenant_id, vendor, number);

CREATE TABLE books_payments (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  vendor text NOT NULL,
  remote_id text NOT NULL,
  currency text NOT NULL,
  total_minor bigint NOT NULL,
  paid_on date,
  customer_remote_id text,
  -- The `[settle:<key>]` marker Settle writes on what it posts; null on a payment a person entered.
  settle_key text,
  reference text,
  voided boolean NOT NULL DEFAULT false,
  deleted boolean NOT NULL DEFAULT false,
  remote_updated_at timestamptz,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, vendor, remote_id)
);

-- What each payment applies to which invoice (a payment may pay several; replaced whole on every change).
CREATE TABLE books_payment_lines (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  vendor text NOT NULL,
  payment_remote_id text NOT NULL,
  line_no integer NOT NULL,
  invoice_remote_id text NOT NULL,
  amount_minor bigint NOT NULL,
  PRIMARY KEY (tenant_id, vendor, payment_remote_id, line_no)
);
CREATE INDEX books_payment_lines_invoice ON books_payment_lines (tenant_id, vendor, invoice_remote_id);

CREATE TABLE books_deposits (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  vendor text NOT NULL,
  remote_id text NOT NULL,
  currency text NOT NULL,
  total_minor bigint NOT NULL,
  deposited_on date,
  settle_key text,
  voided boolean NOT NULL DEFAULT false,
  deleted boolean NOT NULL DEFAULT false,
  remote_updated_at timestamptz,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, vendor, remote_id)
);

-- One row per reconciliation run (nightly or asked for). A run with no drift is the dated "zero drift"
-- summary kept for audit: what was compared, as of when the copies were current, and that nothing differed.
CREATE TABLE reconciliation_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  trigger text NOT NULL CHECK (trigger IN ('nightly', 'on_demand')),
  requested_by text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  books_vendor text,
  -- The books copy was current up to this moment (its last complete sync); later postings count as in flight.
  books_copy_as_of timestamptz,
  invoices_checked integer NOT NULL DEFAULT 0,
  payouts_checked integer NOT NULL DEFAULT 0,
  drift_count integer NOT NULL DEFAULT 0,
  drift_minor bigint NOT NULL DEFAULT 0,
  zero_drift boolean,
  summary jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX reconciliation_runs_recent ON reconciliation_runs (tenant_id, started_at DESC);

CREATE TABLE reconciliation_drifts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  run_id uuid NOT NULL REFERENCES reconciliation_runs(id),
  subject text NOT NULL CHECK (subject IN ('invoice', 'payout')),
  invoice_id uuid REFERENCES invoices(id),
  payout_id uuid REFERENCES payouts(id),
  reference text NOT NULL,
  kind text NOT NULL,
  currency text NOT NULL,
  -- The figures compared (null where that side has none); difference = what the books/PSA are off by.
  psa_minor bigint,
  settle_minor bigint,
  books_minor bigint,
  bank_minor bigint,
  difference_minor bigint NOT NULL,
  cause text NOT NULL,
  -- A fix Settle can make ({"action":"repost","posting_id":…}); null when only a person can fix it.
  fix jsonb,
  advice text NOT NULL,
  fixed_at timestamptz,
  fixed_by text
);
CREATE INDEX reconciliation_drifts_run ON reconciliation_drifts (run_id);

ALTER TABLE books_invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE books_invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON books_invoices USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
ALTER TABLE books_payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE books_payments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON books_payments USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
ALTER TABLE books_payment_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE books_payment_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON books_payment_lines USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
ALTER TABLE books_deposits ENABLE ROW LEVEL SECURITY;
ALTER TABLE books_deposits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON books_deposits USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
ALTER TABLE reconciliation_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE reconciliation_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reconciliation_runs USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
ALTER TABLE reconciliation_drifts ENABLE ROW LEVEL SECURITY;
ALTER TABLE reconciliation_drifts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reconciliation_drifts USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
