-- Failed payments (issue #3): per-tenant retry policies as data, one row per failed off-session payment
-- with the retry decision taken on it (and the rules behind it), and staff exceptions that stay open until
-- the invoice is paid or someone dismisses them. See docs/architecture.md "Failed payments".

-- A tenant's retry schedule (payments-rules.md §3.3). No row = the defaults in domain/rules
-- (DEFAULT_RETRY_SCHEDULE). Steps are JSON arrays of {"businessDays": n} or {"minutes": n}, counted from the
-- first attempt of the failed payment. Hard and fix-data declines never get a schedule (§0.4).
CREATE TABLE retry_policies (
  tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
  soft_steps jsonb NOT NULL,
  technical_steps jsonb NOT NULL,
  -- how long the "update your payment method" link in the failure email stays valid
  update_link_ttl_hours int NOT NULL DEFAULT 168 CHECK (update_link_ttl_hours BETWEEN 1 AND 720),
  -- when the client saves a new method through that link, retry the failed invoices at once
  retry_on_method_update boolean NOT NULL DEFAULT true,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per failed payment that Settle handled. A retry is a NEW payment (a failed payment is final in
-- the state machine) whose id is stored in retry_payment_id in the same transaction that creates it, so a
-- retry job that runs twice finds it and never charges again. root_payment_id groups the chain
-- (original + its retries); the last failure of a chain is the one with retry_payment_id IS NULL.
CREATE TABLE payment_failures (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  payment_id uuid NOT NULL UNIQUE REFERENCES payments(id),
  root_payment_id uuid NOT NULL REFERENCES payments(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  invoice_ids uuid[] NOT NULL,
  method_kind text,
  method_label text,
  failure_code text,
  -- hard | soft | fix_data | technical (cards, §3.1), ach_return (bank debits, §2.4)
  failure_class text NOT NULL,
  return_code text,
  decision text NOT NULL CHECK (decision IN ('retry', 'no_retry')),
  reason text NOT NULL,
  detail text NOT NULL,
  rules_applied jsonb NOT NULL DEFAULT '[]',
  retry_number int,
  retry_at timestamptz,
  status text NOT NULL CHECK (status IN ('scheduled', 'retrying', 'retried', 'stopped', 'resolved')),
  retry_payment_id uuid UNIQUE REFERENCES payments(id),
  psa_note_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_failures_root ON payment_failures (tenant_id, root_payment_id);
CREATE INDEX payment_failures_client ON payment_failures (tenant_id, client_id, status);

-- Things a person must look at. dedupe_key makes "open it again" an update of the same row
-- (e.g. one exception per failed-payment chain, not one per retry).
CREATE TABLE exceptions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  kind text NOT NULL,
  dedupe_key text NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  client_id uuid REFERENCES clients(id),
  invoice_ids uuid[] NOT NULL DEFAULT '{}',
  payment_id uuid REFERENCES payments(id),
  title text NOT NULL,
  detail text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  opened_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  resolved_by text,
  resolution text,
  UNIQUE (tenant_id, dedupe_key)
);
CREATE INDEX exceptions_open ON exceptions (tenant_id, status, opened_at DESC);

-- An exception about invoices resolves itself when the last of them is paid (or voided / credited in the
-- PSA), whichever path got it there: a retry, the portal, a payment recorded in the PSA. Scheduled
-- retries of those invoices stop at the same moment. Both are audited in the same transaction.
CREATE FUNCTION settle_resolve_on_invoice_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status NOT IN ('paid', 'void', 'credit') OR OLD.status = NEW.status THEN
    RETURN NULL;
  END IF;
  WITH resolved AS (
    UPDATE exceptions e
       SET status = 'resolved', resolved_at = now(), updated_at = now(),
           resolved_by = 'system:invoice-' || NEW.status, resolution = 'invoice_' || NEW.status
     WHERE e.tenant_id = NEW.tenant_id AND e.status = 'open' AND NEW.id = ANY (e.invoice_ids)
       AND NOT EXISTS (SELECT 1 FROM invoices i
                        WHERE i.id = ANY (e.invoice_ids) AND i.status NOT IN ('paid', 'void', 'credit'))
    RETURNING e.id, e.kind
  )
  INSERT INTO audit_log (tenant_id, actor, action, subject_type, subject_id, detail)
  SELECT NEW.tenant_id, 'system:invoice-' || NEW.status, 'exception.resolved', 'exception', r.id::text,
         jsonb_build_object('kind', r.kind, 'resolution', 'invoice_' || NEW.status, 'invoice_id', NEW.id)
    FROM resolved r;

  WITH stopped AS (
    UPDATE payment_failures f
       SET status = 'resolved', updated_at = now()
     WHERE f.tenant_id = NEW.tenant_id AND f.status IN ('scheduled', 'stopped') AND NEW.id = ANY (f.invoice_ids)
       AND NOT EXISTS (SELECT 1 FROM invoices i
                        WHERE i.id = ANY (f.invoice_ids) AND i.status NOT IN ('paid', 'void', 'credit'))
    RETURNING f.id, f.payment_id
  )
  INSERT INTO audit_log (tenant_id, actor, action, subject_type, subject_id, detail)
  SELECT NEW.tenant_id, 'system:invoice-' || NEW.status, 'payment.retry_cancelled', 'payment', s.payment_id::text,
         jsonb_build_object('failure_id', s.id, 'reason', 'invoice ' || NEW.status)
    FROM stopped s;
  RETURN NULL;
END $$;

CREATE TRIGGER invoices_resolve_exceptions AFTER UPDATE OF status ON invoices
  FOR EACH ROW EXECUTE FUNCTION settle_resolve_on_invoice_closed();

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['retry_policies', 'payment_failures', 'exceptions']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = settle_current_tenant()) '
                   'WITH CHECK (tenant_id = settle_current_tenant())', t);
  END LOOP;
END $$;
