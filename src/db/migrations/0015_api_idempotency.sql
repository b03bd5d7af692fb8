-- Idempotency-Key for API requests that move money (issue #6 item 12), first POST /api/v1/payments.
-- A client that retries after a lost answer sends the same key: it gets the first answer again, never a
-- second charge. Keys are scoped to the caller (an API key or a staff user) within a tenant, as Stripe
-- scopes them to an account's API key, and stored with a fingerprint of the request, so the same key with
-- another request is refused instead of replayed. The key row is written in the transaction that creates
-- the payment: a request refused before that (bad input, nothing to pay) leaves no row and can be retried.
CREATE TABLE api_idempotency_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  -- who sent it: api_key:<id> or user:<id> (audit actor form)
  caller text NOT NULL,
  idempotency_key text NOT NULL,
  -- e.g. 'POST /api/v1/payments': a key reused on another endpoint is another request
  endpoint text NOT NULL,
  -- sha256 of the canonical request (engine/idempotent-request.ts)
  request_hash text NOT NULL,
  -- the payment the request created; its attempt tells whether the request is still in progress
  payment_id uuid REFERENCES payments(id),
  status text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'done')),
  response_status int,
  response_body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  UNIQUE (tenant_id, caller, idempotency_key)
);

ALTER TABLE api_idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_idempotency_keys USING (tenant_id = settle_current_tenant()) WITH CHECK (tenant_id = settle_current_tenant());
