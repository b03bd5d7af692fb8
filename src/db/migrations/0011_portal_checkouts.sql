-- Open checkouts (issue #6 item 2): a portal payment whose PaymentIntent the client confirms in the
-- processor's hosted fields (client-side confirmation) can be confirmed for as long as the intent is not
-- canceled — also after a decline. Two such intents on one invoice (two tabs, two links, a double click)
-- could both be confirmed: the client charged twice. One row per (checkout payment, invoice) while the
-- intent can still be confirmed; the partial unique index makes "at most one open checkout per invoice"
-- (and so per client and invoice) a database fact rather than a check-then-act. A checkout is closed when
-- its intent was canceled at the processor (superseded by another checkout, or by a staff/autopay charge)
-- or when its payment left `pending`/`failed` for good (confirmed: processing, succeeded).
CREATE TABLE portal_checkouts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  payment_id uuid NOT NULL REFERENCES payments(id),
  invoice_id uuid NOT NULL REFERENCES invoices(id),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  -- What the intent was created with, so that a reuse replays exactly the same request (same idempotency key).
  method_kinds text[] NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  opened_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  close_reason text,
  UNIQUE (payment_id, invoice_id)
);
CREATE UNIQUE INDEX portal_checkouts_one_open_per_invoice ON portal_checkouts (tenant_id, invoice_id) WHERE status = 'open';
CREATE INDEX portal_checkouts_payment ON portal_checkouts (payment_id);

ALTER TABLE portal_checkouts ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal_checkouts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON portal_checkouts USING (tenant_id = settle_current_tenant()) WITH CHECK (tenant_id = settle_current_tenant());
