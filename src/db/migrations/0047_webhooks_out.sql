-- Outbound webhooks (issue #12): an MSP subscribes a URL to Settle's events (docs/webhooks.md).
--
-- Events are written by triggers on the rows they describe, in the transaction that changes the row: an
-- event exists if and only if its change committed (a rolled-back change leaves no event and no delivery),
-- and every path that changes the row is covered — the engine's use cases, bulk statements (the initial
-- import), and the other triggers (0006 closes exceptions when their invoices are paid). The engine holds
-- no webhook calls of its own for that reason. An event is stored only when an active subscription of its
-- workspace wants its type, with one delivery per such subscription and a wake-up of that subscription's
-- delivery job (graphile-worker, in the same transaction): the outbox is these rows.
CREATE TABLE webhook_subscriptions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  url text NOT NULL,
  description text NOT NULL DEFAULT '',
  event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
  -- {"current": "whsec_…", "previous": "whsec_…" | null}, sealed with the instance key (db/reseal.ts)
  secrets_sealed text NOT NULL,
  -- during a rotation both secrets sign until this moment (two v1= signatures in Settle-Signature)
  previous_expires_at timestamptz,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  -- a delivery used up its three days of retries; cleared by the next delivery that succeeds
  failing_since timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_active ON webhook_subscriptions (tenant_id) WHERE status = 'active';

-- One per event a subscription wanted. `seq` increases in the order changes were written (one sequence for
-- the instance); `body` is the exact JSON sent (so a retry or a replay is byte-for-byte the same).
CREATE SEQUENCE webhook_event_seq;
CREATE TABLE webhook_events (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  seq bigint NOT NULL UNIQUE,
  type text NOT NULL,
  subject_type text NOT NULL,
  subject_id text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX webhook_events_subject ON webhook_events (tenant_id, subject_type, subject_id);

CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  subscription_id uuid NOT NULL REFERENCES webhook_subscriptions(id),
  event_id uuid NOT NULL REFERENCES webhook_events(id),
  seq bigint NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- retries stop here (three days after the event, or after a replay) and the delivery is marked failed
  give_up_at timestamptz NOT NULL DEFAULT now() + interval '3 days',
  last_attempt_at timestamptz,
  last_status int,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subscription_id, event_id)
);
-- what a subscription's job sends next: its pending deliveries in event order (those not yet due are skipped)
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (subscription_id, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, seq DESC);

-- The delivery log: every attempt with what the receiver answered (status and the first 2 KB of its body).
CREATE TABLE webhook_attempts (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries(id),
  attempt_no int NOT NULL,
  started_at timestamptz NOT NULL,
  duration_ms int NOT NULL,
  response_status int,
  error text,
  response_body text
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt_no);

ALTER TABLE webhook_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_subscriptions USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_events USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_deliveries USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_attempts USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());

-- Store one event and its deliveries, and wake each subscription's delivery job once per transaction (a
-- transaction-local setting remembers which were woken: a billing run of 500 invoices adds one job, not 500).
CREATE FUNCTION settle_webhook_emit(p_tenant uuid, p_type text, p_subject_type text, p_subject_id text, p_data jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid;
  v_seq bigint;
  v_at timestamptz := clock_timestamp();
  v_sub uuid;
  v_flag text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions s
                  WHERE s.tenant_id = p_tenant AND s.status = 'active' AND p_type = ANY (s.event_types)) THEN
    RETURN;
  END IF;
  v_id := gen_random_uuid();
  v_seq := nextval('webhook_event_seq');
  INSERT INTO webhook_events (id, tenant_id, seq, type, subject_type, subject_id, body, created_at)
  VALUES (v_id, p_tenant, v_seq, p_type, p_subject_type, p_subject_id,
          jsonb_build_object('id', 'evt_' || replace(v_id::text, '-', ''), 'type', p_type,
                             'created_at', to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                             'sequence', v_seq, 'workspace_id', p_tenant, 'data', p_data)::text,
          v_at);
  FOR v_sub IN
    INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, seq, next_attempt_at, give_up_at)
    SELECT p_tenant, s.id, v_id, v_seq, v_at, v_at + interval '3 days'
      FROM webhook_subscriptions s
     WHERE s.tenant_id = p_tenant AND s.status = 'active' AND p_type = ANY (s.event_types)
    RETURNING subscription_id
  LOOP
    v_flag := 'settle.webhook_woken_' || replace(v_sub::text, '-', '');
    IF coalesce(current_setting(v_flag, true), '') <> '1' THEN
      PERFORM graphile_worker.add_job('deliver-webhooks',
                                      json_build_object('tenantId', p_tenant, 'subscriptionId', v_sub),
                                      queue_name => 'webhooks:' || v_sub, job_key => 'deliver-webhooks:' || v_sub,
                                      max_attempts => 25);
      PERFORM set_config(v_flag, '1', true);
    END IF;
  END LOOP;
END $$;

-- ---- the catalogue: which change of which row is which event (docs/webhooks.md lists the payloads) ----

CREATE FUNCTION settle_webhook_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_data jsonb := jsonb_build_object('invoice', jsonb_build_object(
    'id', NEW.id, 'number', NEW.number, 'client_id', NEW.client_id, 'currency', NEW.currency,
    'total_minor', NEW.total_minor, 'status', NEW.status, 'issued_on', NEW.issued_on, 'due_on', NEW.due_on,
    'version', NEW.current_version));
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM settle_webhook_emit(NEW.tenant_id, 'invoice.imported', 'invoice', NEW.id::text, v_data);
    RETURN NULL;
  END IF;
  IF NEW.current_version <> OLD.current_version THEN
    PERFORM settle_webhook_emit(NEW.tenant_id, 'invoice.changed', 'invoice', NEW.id::text, v_data);
  END IF;
  IF NEW.status <> OLD.status AND NEW.status = 'paid' THEN
    PERFORM settle_webhook_emit(NEW.tenant_id, 'invoice.paid', 'invoice', NEW.id::text, v_data);
  ELSIF NEW.status <> OLD.status AND NEW.status = 'void' THEN
    PERFORM settle_webhook_emit(NEW.tenant_id, 'invoice.voided', 'invoice', NEW.id::text, v_data);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_invoice_events AFTER INSERT OR UPDATE OF current_version, status ON invoices
  FOR EACH ROW EXECUTE FUNCTION settle_webhook_invoice();

CREATE FUNCTION settle_webhook_payment() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_type text;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.state = OLD.state THEN
    RETURN NULL;
  END IF;
  v_type := CASE NEW.state WHEN 'succeeded' THEN 'payment.succeeded' WHEN 'failed' THEN 'payment.failed'
                           WHEN 'returned' THEN 'payment.returned' END;
  IF v_type IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM settle_webhook_emit(NEW.tenant_id, v_type, 'payment', NEW.id::text, jsonb_build_object('payment', jsonb_build_object(
    'id', NEW.id, 'client_id', NEW.client_id, 'currency', NEW.currency, 'amount_minor', NEW.amount_minor,
    'surcharge_minor', NEW.surcharge_minor, 'state', NEW.state, 'source', NEW.source, 'processor', NEW.processor,
    'method_kind', NEW.method_kind, 'method_last4', NEW.method_last4,
    'failure_code', NEW.failure_code, 'failure_message', NEW.failure_message)));
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_payment_events AFTER INSERT OR UPDATE OF state ON payments
  FOR EACH ROW EXECUTE FUNCTION settle_webhook_payment();

-- A refund is its own row (several partial refunds of one payment are several events).
CREATE FUNCTION settle_webhook_refund() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status <> 'succeeded' OR (TG_OP = 'UPDATE' AND OLD.status = 'succeeded') THEN
    RETURN NULL;
  END IF;
  PERFORM settle_webhook_emit(NEW.tenant_id, 'payment.refunded', 'payment', NEW.payment_id::text, jsonb_build_object('refund', jsonb_build_object(
    'id', NEW.id, 'payment_id', NEW.payment_id, 'currency', NEW.currency, 'amount_minor', NEW.amount_minor,
    'reason', NEW.reason, 'source', NEW.source)));
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_refund_events AFTER INSERT OR UPDATE OF status ON refunds
  FOR EACH ROW EXECUTE FUNCTION settle_webhook_refund();

-- A payout row is written once, by the reconciliation that matched its items (engine/reconcile-payout.ts).
CREATE FUNCTION settle_webhook_payout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM settle_webhook_emit(NEW.tenant_id, 'payout.reconciled', 'payout', NEW.id::text, jsonb_build_object('payout', jsonb_build_object(
    'id', NEW.id, 'processor', NEW.processor, 'processor_payout_id', NEW.processor_payout_id, 'currency', NEW.currency,
    'amount_minor', NEW.amount_minor, 'gross_minor', NEW.gross_minor, 'fees_minor', NEW.fees_minor,
    'adjustments_minor', NEW.adjustments_minor, 'arrival_date', NEW.arrival_date)));
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_payout_events AFTER INSERT ON payouts
  FOR EACH ROW EXECUTE FUNCTION settle_webhook_payout();

-- posting.failed: a write to the PSA or the books gave up (engine/posting-failure.ts); posting.resolved: a
-- failed one was written after all (a retry, or staff fixed its cause).
CREATE FUNCTION settle_webhook_posting() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_type text;
BEGIN
  IF NEW.status = OLD.status THEN
    RETURN NULL;
  END IF;
  v_type := CASE WHEN NEW.status = 'failed' THEN 'posting.failed'
                 WHEN OLD.status = 'failed' AND NEW.status = 'posted' THEN 'posting.resolved' END;
  IF v_type IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM settle_webhook_emit(NEW.tenant_id, v_type, 'posting', NEW.id::text, jsonb_build_object('posting', jsonb_build_object(
    'id', NEW.id, 'target', NEW.target, 'vendor', NEW.vendor, 'kind', NEW.kind, 'payment_id', NEW.payment_id,
    'invoice_id', NEW.invoice_id, 'currency', NEW.currency, 'amount_minor', NEW.amount_minor, 'status', NEW.status,
    'remote_id', NEW.remote_id, 'last_error', NEW.last_error)));
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_posting_events AFTER UPDATE OF status ON postings
  FOR EACH ROW EXECUTE FUNCTION settle_webhook_posting();

CREATE FUNCTION settle_webhook_exception() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_type text;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status = OLD.status THEN
    RETURN NULL;
  END IF;
  v_type := CASE NEW.status WHEN 'open' THEN 'exception.opened' ELSE 'exception.resolved' END;
  PERFORM settle_webhook_emit(NEW.tenant_id, v_type, 'exception', NEW.id::text, jsonb_build_object('exception', jsonb_build_object(
    'id', NEW.id, 'kind', NEW.kind, 'status', NEW.status, 'title', NEW.title, 'detail', NEW.detail,
    'client_id', NEW.client_id, 'invoice_ids', to_jsonb(NEW.invoice_ids), 'payment_id', NEW.payment_id,
    'resolution', NEW.resolution)));
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_exception_events AFTER INSERT OR UPDATE OF status ON exceptions
  FOR EACH ROW EXECUTE FUNCTION settle_webhook_exception();

CREATE FUNCTION settle_webhook_approval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status <> 'pending' THEN
    RETURN NULL;
  END IF;
  PERFORM settle_webhook_emit(NEW.tenant_id, 'autopay.approval_needed', 'autopay_approval', NEW.id::text, jsonb_build_object('approval', jsonb_build_object(
    'id', NEW.id, 'invoice_id', NEW.invoice_id, 'invoice_version', NEW.invoice_version, 'currency', NEW.currency,
    'amount_minor', NEW.amount_minor, 'reasons', to_jsonb(NEW.reasons))));
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_approval_events AFTER INSERT ON autopay_approvals
  FOR EACH ROW EXECUTE FUNCTION settle_webhook_approval();
