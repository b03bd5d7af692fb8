-- Settle core schema. Every tenant table carries tenant_id and is protected by row-level security:
-- a session sees only rows of the tenant named in `settle.tenant_id` (set per transaction by
-- db/tenant.ts), and a session with no tenant context sees nothing. FORCE makes the policies apply to
-- the table owner too, so the application role cannot read across tenants by accident.
-- Amounts are bigint minor units; there is no numeric/float money column anywhere.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE FUNCTION settle_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('settle.tenant_id', true), '')::uuid $$;

-- The directory of MSPs. Not tenant data itself: it holds no money and no client data, and
-- webhooks/portal links name their tenant, so it is readable without context.
CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text NOT NULL,
  currency text NOT NULL DEFAULT 'USD',
  settings jsonb NOT NULL DEFAULT '{}',
  portal_secret text NOT NULL DEFAULT encode(gen_random_bytes(32), 'hex'),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'finance', 'viewer')),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, email)
);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  name text NOT NULL,
  key_hash text NOT NULL UNIQUE, -- sha256 of the secret; the secret itself is shown once
  prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE connections (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  role text NOT NULL CHECK (role IN ('psa', 'payments', 'accounting')),
  vendor text NOT NULL,
  config jsonb NOT NULL DEFAULT '{}', -- non-secret settings (base URL, account ids)
  secrets_ciphertext text NOT NULL, -- AES-256-GCM, see db/crypto.ts
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_attention', 'disabled')),
  status_detail text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, role)
);

CREATE TABLE sync_cursors (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  name text NOT NULL,
  cursor_value text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE clients (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  name text NOT NULL,
  identifier text NOT NULL,
  billing_email text,
  billing_contact text,
  region text, -- billing state/province, for surcharge rules
  country text,
  collection_enabled boolean NOT NULL DEFAULT true,
  autopay_enabled boolean NOT NULL DEFAULT false,
  processor_customer_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Our id <-> each outside system's id, one table for every entity and system.
CREATE TABLE external_refs (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  entity text NOT NULL CHECK (entity IN ('client', 'invoice', 'payment', 'payout')),
  entity_id uuid NOT NULL,
  system text NOT NULL,
  remote_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, system, entity, remote_id),
  UNIQUE (tenant_id, entity, entity_id, system)
);

CREATE TABLE invoices (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  number text NOT NULL,
  type text NOT NULL,
  currency text NOT NULL,
  total_minor bigint NOT NULL,
  psa_balance_minor bigint NOT NULL, -- what the PSA says is owed
  paid_minor bigint NOT NULL DEFAULT 0 CHECK (paid_minor >= 0), -- allocated by Settle
  status text NOT NULL CHECK (status IN ('open', 'partially_paid', 'paid', 'void', 'credit')),
  psa_status text NOT NULL,
  issued_on date NOT NULL,
  due_on date,
  current_version int NOT NULL DEFAULT 1,
  psa_updated_at timestamptz NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, number)
);
CREATE INDEX invoices_client ON invoices (tenant_id, client_id);
CREATE INDEX invoices_status_due ON invoices (tenant_id, status, due_on);

CREATE TABLE invoice_versions (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  invoice_id uuid NOT NULL REFERENCES invoices(id),
  version int NOT NULL,
  content_hash text NOT NULL,
  total_minor bigint NOT NULL,
  snapshot jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (invoice_id, version)
);

CREATE TABLE invoice_lines (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  invoice_id uuid NOT NULL REFERENCES invoices(id),
  version int NOT NULL,
  line_no int NOT NULL,
  external_id text NOT NULL,
  kind text NOT NULL,
  description text NOT NULL,
  quantity text NOT NULL,
  amount_minor bigint NOT NULL,
  PRIMARY KEY (invoice_id, version, line_no)
);

CREATE TABLE payment_methods (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  processor text NOT NULL,
  processor_method_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('card', 'us_bank_account')),
  brand text,
  last4 text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
  funding text,
  exp_month int,
  exp_year int,
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, processor, processor_method_id)
);

CREATE TABLE payments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  currency text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  surcharge_minor bigint NOT NULL DEFAULT 0 CHECK (surcharge_minor >= 0),
  fee_minor bigint, -- processor fee, known once the balance transaction exists
  state text NOT NULL CHECK (state IN ('pending', 'processing', 'succeeded', 'failed', 'unknown',
                                        'refunded', 'partially_refunded', 'returned', 'disputed', 'charged_back')),
  -- which invoices the client chose to pay and how much of each; turned into allocations on success
  planned_allocations jsonb NOT NULL DEFAULT '[]',
  source text NOT NULL CHECK (source IN ('portal', 'autopay', 'manual', 'installment')),
  processor text NOT NULL,
  processor_payment_id text,
  method_kind text,
  method_brand text,
  method_last4 text,
  failure_code text,
  failure_message text,
  succeeded_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, processor, processor_payment_id)
);
CREATE INDEX payments_state ON payments (tenant_id, state, updated_at);

CREATE TABLE payment_attempts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  payment_id uuid NOT NULL REFERENCES payments(id),
  attempt_no int NOT NULL,
  idempotency_key text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('sending', 'succeeded', 'processing', 'requires_action', 'declined',
                                            'not_sent', 'unknown')),
  processor_payment_id text,
  decline_code text,
  message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  UNIQUE (tenant_id, idempotency_key),
  UNIQUE (payment_id, attempt_no)
);

CREATE TABLE payment_events (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  payment_id uuid NOT NULL REFERENCES payments(id),
  from_state text,
  to_state text NOT NULL,
  event text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE allocations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  payment_id uuid NOT NULL REFERENCES payments(id),
  invoice_id uuid NOT NULL REFERENCES invoices(id),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (payment_id, invoice_id)
);

CREATE TABLE payouts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  processor text NOT NULL,
  processor_payout_id text NOT NULL,
  currency text NOT NULL,
  amount_minor bigint NOT NULL,
  gross_minor bigint NOT NULL,
  fees_minor bigint NOT NULL,
  adjustments_minor bigint NOT NULL,
  arrival_date date NOT NULL,
  status text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, processor, processor_payout_id)
);

CREATE TABLE payout_items (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  payout_id uuid NOT NULL REFERENCES payouts(id),
  balance_transaction_id text NOT NULL,
  type text NOT NULL,
  processor_payment_id text,
  payment_id uuid REFERENCES payments(id),
  gross_minor bigint NOT NULL,
  fee_minor bigint NOT NULL,
  net_minor bigint NOT NULL,
  PRIMARY KEY (payout_id, balance_transaction_id)
);

-- Double-entry ledger. Each journal (one money movement) must balance; checked at commit by the
-- deferred constraint trigger below, so no code path can leave half a journal behind.
CREATE TABLE ledger_entries (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  journal_id uuid NOT NULL,
  journal_kind text NOT NULL,
  account text NOT NULL,
  direction text NOT NULL CHECK (direction IN ('debit', 'credit')),
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  currency text NOT NULL,
  memo text NOT NULL DEFAULT '',
  payment_id uuid REFERENCES payments(id),
  payout_id uuid REFERENCES payouts(id),
  invoice_id uuid REFERENCES invoices(id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_journal ON ledger_entries (journal_id);
CREATE INDEX ledger_account ON ledger_entries (tenant_id, account);

CREATE FUNCTION settle_check_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unbalanced record;
BEGIN
  SELECT currency,
         sum(CASE WHEN direction = 'debit' THEN amount_minor ELSE 0 END) AS debits,
         sum(CASE WHEN direction = 'credit' THEN amount_minor ELSE 0 END) AS credits
    INTO unbalanced
    FROM ledger_entries
   WHERE journal_id = NEW.journal_id
   GROUP BY currency
  HAVING sum(CASE WHEN direction = 'debit' THEN amount_minor ELSE -amount_minor END) <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger journal % does not balance in %: debits % credits %',
      NEW.journal_id, unbalanced.currency, unbalanced.debits, unbalanced.credits;
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_journal_balanced
  AFTER INSERT ON ledger_entries DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION settle_check_journal_balanced();

-- Each effect Settle writes to a PSA or the books: what, where, with which idempotency key, and
-- what the remote system called it. A posting is created in the same transaction as the state change
-- that needs it; workers move it from pending to posted.
CREATE TABLE postings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  target text NOT NULL CHECK (target IN ('psa', 'accounting')),
  vendor text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('payment', 'deposit', 'payment_reversal', 'refund')),
  payment_id uuid REFERENCES payments(id),
  payout_id uuid REFERENCES payouts(id),
  invoice_id uuid REFERENCES invoices(id),
  amount_minor bigint NOT NULL,
  currency text NOT NULL,
  idempotency_key text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'failed')),
  remote_id text,
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  posted_at timestamptz,
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX postings_pending ON postings (tenant_id, target, status, next_attempt_at) WHERE status = 'pending';

-- Every inbound vendor event, stored before it is acted on; the unique key is the vendor's own
-- event identity, so a redelivery is recognised and dropped.
CREATE TABLE inbox_events (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  source text NOT NULL,
  vendor_event_id text NOT NULL,
  event_type text NOT NULL,
  payload jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  UNIQUE (tenant_id, source, vendor_event_id)
);

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  actor text NOT NULL, -- 'user:<id>', 'api_key:<id>', 'client:<id>', 'system:<job>'
  action text NOT NULL,
  subject_type text NOT NULL,
  subject_id text,
  detail jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, created_at DESC);

-- The audit log is append-only.
CREATE FUNCTION settle_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION settle_audit_append_only();

-- Which worker processes are alive, so that jobs held by a killed worker are unlocked at once
-- instead of after graphile-worker's 4-hour lock timeout (see jobs/worker-registry.ts).
CREATE TABLE worker_heartbeats (
  worker_id text PRIMARY KEY,
  host text NOT NULL,
  pid int NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  seen_at timestamptz NOT NULL DEFAULT now()
);

-- Row-level security on every tenant table.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'connections', 'sync_cursors', 'clients', 'external_refs', 'invoices',
    'invoice_versions', 'invoice_lines', 'payment_methods', 'payments', 'payment_attempts', 'payment_events',
    'allocations', 'payouts', 'payout_items', 'ledger_entries', 'postings', 'inbox_events', 'audit_log']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = settle_current_tenant()) '
                   'WITH CHECK (tenant_id = settle_current_tenant())', t);
  END LOOP;
END $$;

-- API keys: readable with tenant context, or by exact hash while authenticating (the caller proves
-- knowledge of the secret by presenting its hash; nothing else becomes visible).
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
CREATE POLICY authenticate_by_hash ON api_keys FOR SELECT
  USING (key_hash = nullif(current_setting('settle.api_key_hash', true), ''));
