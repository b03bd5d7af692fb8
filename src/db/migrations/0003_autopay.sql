-- Autopay (issue #3): rules that pick which invoices are charged automatically, when, and with which saved
-- method; one schedule row per invoice that follows it from pre-debit notice to charge; staff approvals for
-- charges over a rule's cap or that jumped against the client's previous invoice. See docs/architecture.md
-- "Autopay" for the life of a schedule. Pilot mode uses clients.collection_enabled / clients.autopay_enabled.

-- Workspace-wide knobs. One row per tenant, created on first write; absent = the defaults below.
CREATE TABLE autopay_settings (
  tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
  notice_days int NOT NULL DEFAULT 3 CHECK (notice_days BETWEEN 0 AND 30),
  -- an amount more than this many percent above the client's previous invoice waits for approval; null = off
  jump_percent int DEFAULT 50 CHECK (jump_percent IS NULL OR jump_percent BETWEEN 0 AND 10000),
  -- client-side pacing of processor calls during a run (Stripe publishes 100/s live)
  requests_per_second int NOT NULL DEFAULT 95 CHECK (requests_per_second BETWEEN 1 AND 1000),
  concurrency int NOT NULL DEFAULT 8 CHECK (concurrency BETWEEN 1 AND 64),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Ordered rules: a client's own rules (client_id set) are tried before the workspace's (client_id null),
-- each group by position; the first enabled rule that matches an invoice decides. A client locked to a
-- rule (autopay_client_settings.locked_rule_id) is matched against that rule only.
CREATE TABLE autopay_rules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid REFERENCES clients(id),
  name text NOT NULL,
  position int NOT NULL DEFAULT 100,
  enabled boolean NOT NULL DEFAULT true,
  -- which invoices: PSA invoice types, line kinds (every line must be one of them), currency; null = any
  invoice_types text[],
  line_kinds text[],
  currency text,
  -- above this amount the charge waits for staff approval; null = no cap
  approval_cap_minor bigint CHECK (approval_cap_minor IS NULL OR approval_cap_minor >= 0),
  -- when: the anchor date plus offset_days (negative = before)
  anchor text NOT NULL DEFAULT 'due_date' CHECK (anchor IN ('due_date', 'invoice_date')),
  offset_days int NOT NULL DEFAULT 0 CHECK (offset_days BETWEEN -90 AND 90),
  -- which saved methods may be used (the client's default first, then the client's fallback)
  method_kinds text[] NOT NULL DEFAULT ARRAY['card', 'us_bank_account'],
  -- days of pre-debit notice; null = the workspace's setting
  notice_days int CHECK (notice_days IS NULL OR notice_days BETWEEN 0 AND 30),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX autopay_rules_order ON autopay_rules (tenant_id, client_id, position) WHERE deleted_at IS NULL;

CREATE TABLE autopay_client_settings (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  locked_rule_id uuid REFERENCES autopay_rules(id),
  fallback_method_id uuid REFERENCES payment_methods(id),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, client_id)
);

-- One per invoice: pending_notice → (awaiting_approval) → noticed → charging → charged | failed, or
-- cancelled at any point before the charge (void, paid elsewhere, opted out, rejected); blocked while it
-- lacks a saved method or a billing email. noticed_version/amount is what the client was told;
-- not_before is the earliest charge date (the hold: never fewer than notice_days after the notice of the
-- amount actually charged, see docs/architecture.md).
CREATE TABLE autopay_schedules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  invoice_id uuid NOT NULL REFERENCES invoices(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  rule_id uuid NOT NULL REFERENCES autopay_rules(id),
  state text NOT NULL CHECK (state IN ('pending_notice', 'awaiting_approval', 'blocked', 'noticed', 'charging', 'charged',
                                        'failed', 'cancelled')),
  reason text,
  charge_on date NOT NULL,
  notice_days int NOT NULL,
  not_before date,
  noticed_version int,
  noticed_amount_minor bigint,
  noticed_at timestamptz,
  notices_sent int NOT NULL DEFAULT 0,
  method_id uuid REFERENCES payment_methods(id),
  attempt int NOT NULL DEFAULT 0,
  payment_id uuid REFERENCES payments(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, invoice_id)
);
CREATE INDEX autopay_schedules_state ON autopay_schedules (tenant_id, state, not_before);

-- A charge that waits for staff: for one invoice version and amount. A new version or a higher amount
-- supersedes a pending approval and needs a new one; an approval covers its amount or less.
CREATE TABLE autopay_approvals (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  schedule_id uuid NOT NULL REFERENCES autopay_schedules(id),
  invoice_id uuid NOT NULL REFERENCES invoices(id),
  invoice_version int NOT NULL,
  amount_minor bigint NOT NULL,
  currency text NOT NULL,
  reasons text[] NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'superseded')),
  decided_by text,
  decided_at timestamptz,
  note text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX autopay_approvals_status ON autopay_approvals (tenant_id, status, created_at);
-- at most one open question per schedule
CREATE UNIQUE INDEX autopay_approvals_one_pending ON autopay_approvals (schedule_id) WHERE status = 'pending';

-- What is owed on an invoice (db/queries/invoice-balance.ts) reads its allocations and PSA postings, and a
-- charge's success reads its payment's postings: several times per charge, so without these a run of
-- thousands of charges slows down as the tables grow (bench/autopay-run.ts).
CREATE INDEX IF NOT EXISTS allocations_by_invoice ON allocations (invoice_id);
CREATE INDEX IF NOT EXISTS postings_by_invoice ON postings (invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS postings_by_payment ON postings (payment_id) WHERE payment_id IS NOT NULL;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['autopay_settings', 'autopay_rules', 'autopay_client_settings', 'autopay_schedules', 'autopay_approvals']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = settle_current_tenant()) '
                   'WITH CHECK (tenant_id = settle_current_tenant())', t);
  END LOOP;
END $$;
