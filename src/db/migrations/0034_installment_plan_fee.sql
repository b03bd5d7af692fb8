-- The installment-plan fee collected for real (issue #9): an offer's fee (installment_plans.fee_minor, agreed
-- by the client in the portal) is charged with the plan's first part, on top of the part. Like a card
-- surcharge it is money beyond the invoice — never allocated, never the client's credit — but it is not a
-- surcharge (no legal caps, not in the surcharge reports), so it has a column of its own: the journal
-- credits installment_fee_income, the books deposit carries it on a line of its own, and a refund gives back
-- its share in proportion (floored on cumulative totals, like the surcharge).
ALTER TABLE payments
  ADD COLUMN plan_fee_minor bigint NOT NULL DEFAULT 0 CHECK (plan_fee_minor >= 0),
  -- Installment parts are charged off-session and never surcharged; one payment carries at most one of them,
  -- so a reversal's shares of the two never compete for the same cent.
  ADD CONSTRAINT payments_one_extra CHECK (plan_fee_minor = 0 OR surcharge_minor = 0),
  ADD CONSTRAINT payments_plan_fee_within CHECK (plan_fee_minor <= amount_minor);

-- Part of the plan fee given back with a refund (the refund's amount includes it, as with surcharge_minor).
ALTER TABLE refunds
  ADD COLUMN plan_fee_minor bigint NOT NULL DEFAULT 0 CHECK (plan_fee_minor >= 0);
