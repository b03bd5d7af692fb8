-- Collections (issue #3): client credit from overpayments, installment plans, and card surcharging.
-- Amounts are bigint minor units; every table carries tenant_id under row-level security.

-- The MSP's surcharge program (payments-rules.md §1). Off until the MSP turns it on; the quote engine
-- (domain/rules/surcharge.ts) decides each charge from these settings and the client's location.
CREATE TABLE surcharge_settings (
  tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
  enabled boolean NOT NULL DEFAULT false,
  msp_country text NOT NULL DEFAULT 'US' CHECK (msp_country ~ '^[A-Z]{2}$'),
  msp_region text CHECK (msp_region ~ '^[A-Z0-9]{1,3}$'),
  -- §1.7: the surcharge never exceeds what accepting the card costs the MSP
  cost_of_acceptance_bps int NOT NULL DEFAULT 0 CHECK (cost_of_acceptance_bps BETWEEN 0 AND 10000),
  -- §1.1: day the acquirer (and Mastercard) notice was filed; surcharging starts 30 days later
  notice_filed_on date,
  -- §1.5: where a surcharge is not allowed, absorb the cost or price at the card price with an ACH discount
  alternative text NOT NULL DEFAULT 'absorb' CHECK (alternative IN ('absorb', 'ach_discount')),
  ach_discount_bps int NOT NULL DEFAULT 0 CHECK (ach_discount_bps BETWEEN 0 AND 10000),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Clients the MSP chose never to surcharge (a contract term, a key account).
CREATE TABLE surcharge_exemptions (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid PRIMARY KEY REFERENCES clients(id),
  reason text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- What the client was shown before confirming a card payment (§0.2: disclose before payment). The payment
-- is bound to the quote, so the receipt, the audit trail and a dispute can show the exact disclosure.
CREATE TABLE surcharge_quotes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  currency text NOT NULL,
  base_minor bigint NOT NULL CHECK (base_minor > 0),
  surcharge_minor bigint NOT NULL DEFAULT 0 CHECK (surcharge_minor >= 0),
  rate_bps int NOT NULL DEFAULT 0,
  allowed boolean NOT NULL,
  reason text, -- SurchargeRefusal when not allowed
  disclosure text,
  display_total_minor bigint, -- New York: the total credit-card price
  processor text NOT NULL,
  processor_method_id text NOT NULL,
  card_brand text,
  card_funding text,
  card_last4 text,
  rules_applied jsonb NOT NULL DEFAULT '[]',
  choices jsonb NOT NULL DEFAULT '[]', -- the invoices and amounts quoted
  payment_id uuid UNIQUE REFERENCES payments(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

-- A client's credit, as movements: an overpayment adds, an application to an invoice or a refund takes
-- away. Each movement names the payment whose money it is, so a credit is always traceable to cash.
CREATE TABLE client_credit_entries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  currency text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor <> 0),
  kind text NOT NULL CHECK (kind IN ('overpayment', 'applied', 'refund')),
  source_payment_id uuid NOT NULL REFERENCES payments(id),
  invoice_id uuid REFERENCES invoices(id),
  -- an application is itself recorded as a payment (processor 'client_credit') against the invoice
  credit_payment_id uuid REFERENCES payments(id),
  refund_id uuid,
  actor text NOT NULL,
  note text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'overpayment') = (amount_minor > 0))
);
CREATE UNIQUE INDEX client_credit_one_overpayment ON client_credit_entries (source_payment_id) WHERE kind = 'overpayment';
CREATE INDEX client_credit_client ON client_credit_entries (tenant_id, client_id, currency);

-- Refunding a credit is a decision by staff, recorded before any money moves.
CREATE TABLE credit_refunds (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  source_payment_id uuid NOT NULL REFERENCES payments(id),
  currency text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  reason text NOT NULL,
  status text NOT NULL DEFAULT 'decided' CHECK (status IN ('decided', 'sent', 'refunded', 'failed')),
  idempotency_key text NOT NULL,
  processor_refund_id text,
  decided_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, idempotency_key)
);

-- An invoice paid in N parts on set dates, each part charged off-session to a saved method.
CREATE TABLE installment_plans (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  invoice_id uuid NOT NULL REFERENCES invoices(id),
  currency text NOT NULL,
  total_minor bigint NOT NULL CHECK (total_minor > 0),
  payment_method_id uuid NOT NULL REFERENCES payment_methods(id),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'cancelled')),
  created_by text NOT NULL,
  cancel_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX installment_plans_one_active ON installment_plans (invoice_id) WHERE status = 'active';

CREATE TABLE installment_parts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  plan_id uuid NOT NULL REFERENCES installment_plans(id),
  part_no int NOT NULL CHECK (part_no >= 1),
  due_on date NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'collecting', 'paid', 'failed', 'cancelled')),
  -- set in the same transaction that creates the payment and its idempotency key: one payment per part
  payment_id uuid UNIQUE REFERENCES payments(id),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (plan_id, part_no)
);
CREATE INDEX installment_parts_due ON installment_parts (tenant_id, status, due_on);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['surcharge_settings', 'surcharge_exemptions', 'surcharge_quotes', 'client_credit_entries',
    'credit_refunds', 'installment_plans', 'installment_parts']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = settle_current_tenant()) '
                   'WITH CHECK (tenant_id = settle_current_tenant())', t);
  END LOOP;
END $$;
