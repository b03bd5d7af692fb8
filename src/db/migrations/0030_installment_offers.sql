-- Installment plans a client may choose in the portal (issue #9): the MSP's offers, e.g. "3 monthly parts
-- for invoices of $1,000 or more". Staff still create plans of any shape (0007, /app/autopay/installments);
-- an offer only says what a client may pick alone. A plan made from an offer goes through the same engine
-- function (engine/installment-plans.ts) and remembers the offer, the fee agreed and the portal request
-- that made it (a double click or a second tab finds that plan instead of making another).
CREATE TABLE installment_offers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  -- what the client reads: "3 monthly payments"
  label text NOT NULL CHECK (length(label) BETWEEN 1 AND 80),
  parts int NOT NULL CHECK (parts BETWEEN 2 AND 12),
  -- days between parts (30 ≈ monthly, 14 fortnightly); the first part is charged the day the client agrees
  every_days int NOT NULL CHECK (every_days BETWEEN 7 AND 31),
  currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  -- the least amount still owed on an invoice for the offer to apply
  min_owed_minor bigint NOT NULL CHECK (min_owed_minor > 0),
  -- The plan fee: a flat amount plus a share of the amount split, the share rounded half-up to the minor
  -- unit (payments-rules.md §5.2, fees per contract). The same for every method, so it is not a card
  -- surcharge (§1.5); kept to 0 by the engine until Settle books a plan fee in the PSA and the books.
  fee_flat_minor bigint NOT NULL DEFAULT 0 CHECK (fee_flat_minor >= 0),
  fee_bps int NOT NULL DEFAULT 0 CHECK (fee_bps BETWEEN 0 AND 1000),
  -- saved methods the parts may be charged to: cards, bank accounts (NACHA debits), or both
  methods text[] NOT NULL CHECK (cardinality(methods) >= 1 AND methods <@ ARRAY['card', 'us_bank_account']),
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX installment_offers_tenant ON installment_offers (tenant_id, enabled);

ALTER TABLE installment_plans
  ADD COLUMN offer_id uuid REFERENCES installment_offers(id),
  ADD COLUMN fee_minor bigint NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
  ADD COLUMN request_key text;
CREATE UNIQUE INDEX installment_plans_request ON installment_plans (tenant_id, request_key) WHERE request_key IS NOT NULL;

ALTER TABLE installment_offers ENABLE ROW LEVEL SECURITY;
ALTER TABLE installment_offers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON installment_offers USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
