-- Payment lifecycle (issue #3): when an ACH payment becomes final, refunds, disputes, and reversals of
-- what was already written to the PSA and the books. See docs/architecture.md "Payment lifecycle".
--
-- The tenant setting "mark invoice paid on" (submit | settlement | payout) lives in tenants.settings
-- (key lifecycle.mark_paid_on); it needs no column.

-- ACH finality (payments-rules.md §2.8): a settled debit can still come back until the return window of
-- its SEC code has passed (§2.4). final_after is the last day a return may reach us; the payment (and the
-- invoices it paid) are final from the next day. NULL for cards and for debits not settled yet.
ALTER TABLE payments ADD COLUMN sec_code text CHECK (sec_code IN ('CCD', 'CTX', 'PPD', 'WEB', 'TEL'));
ALTER TABLE payments ADD COLUMN final_after date;
-- Sum of succeeded refunds; kept with the payment so the state (partially_refunded / refunded) and the
-- refundable remainder are read under the payment's row lock.
ALTER TABLE payments ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0);

-- How much of an allocation was taken back again (refund, ACH return, lost dispute). The invoice owes
-- that part again; allocations themselves stay as the record of what was once applied.
ALTER TABLE allocations ADD COLUMN reversed_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE allocations ADD CONSTRAINT allocations_reversed_range CHECK (reversed_minor >= 0 AND reversed_minor <= amount_minor);

-- A reversal posting (kind payment_reversal or refund) names the payment posting it undoes, and for the
-- PSA how much of that payment is to remain (0 = remove it): an absolute target, so repeating it is safe.
ALTER TABLE postings ADD COLUMN reverses_posting_id uuid REFERENCES postings(id);
ALTER TABLE postings ADD COLUMN remaining_minor bigint CHECK (remaining_minor >= 0);
CREATE INDEX postings_reverses ON postings (reverses_posting_id) WHERE reverses_posting_id IS NOT NULL;

-- Refunds, asked for through Settle's API or made at the processor directly (seen by webhook).
CREATE TABLE refunds (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  payment_id uuid NOT NULL REFERENCES payments(id),
  currency text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  -- the part of the payment's surcharge given back with it (payments-rules.md §1.7), and the part that
  -- came out of the client's unapplied credit rather than an invoice; both set when it succeeds
  surcharge_minor bigint NOT NULL DEFAULT 0 CHECK (surcharge_minor >= 0),
  credit_minor bigint NOT NULL DEFAULT 0 CHECK (credit_minor >= 0),
  reason text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  source text NOT NULL CHECK (source IN ('settle', 'processor')),
  processor_refund_id text,
  idempotency_key text NOT NULL,
  -- what was asked under that key, so the same key with another request is refused, not replayed
  request_hash text NOT NULL,
  requested_by text NOT NULL,
  attempts int NOT NULL DEFAULT 0,
  failure_message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  succeeded_at timestamptz,
  UNIQUE (tenant_id, idempotency_key),
  UNIQUE (tenant_id, processor_refund_id)
);
CREATE INDEX refunds_payment ON refunds (tenant_id, payment_id);

-- Disputes opened by the payer's bank. Card disputes can be argued (won / lost); a dispute on an ACH
-- debit is final (§2.8) and is handled as a return after success.
CREATE TABLE disputes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  payment_id uuid NOT NULL REFERENCES payments(id),
  processor_dispute_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('card', 'ach')),
  currency text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  fee_minor bigint NOT NULL DEFAULT 0,
  reason text NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'won', 'lost')),
  opened_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  UNIQUE (tenant_id, processor_dispute_id)
);
CREATE INDEX disputes_payment ON disputes (tenant_id, payment_id);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['refunds', 'disputes']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = settle_current_tenant()) '
                   'WITH CHECK (tenant_id = settle_current_tenant())', t);
  END LOOP;
END $$;
