-- The A/R dashboard (issue #9; db/queries/ar-metrics-sql.ts, GET /api/v1/reports/ar). Each figure reads the
-- rows of its period or the rows still open, never the whole book, so with 1,000,000 invoices the work follows
-- the period's size. Every index leads with tenant_id: the row-level security policy's condition is then an
-- index condition too.

-- Amount invoiced in the period: covered, so the sum is read from the index alone.
CREATE INDEX invoices_ar_issued ON invoices (tenant_id, issued_on) INCLUDE (currency, total_minor, status, type);
-- Invoices closed since the end of a period (paid only in the PSA, voided) were maybe still owed at that end.
CREATE INDEX invoices_ar_closed_changed ON invoices (tenant_id, psa_updated_at) WHERE status IN ('paid', 'void');
-- Payments allocated in a period: days to pay, and what was owed at the period's end.
CREATE INDEX allocations_ar_created ON allocations (tenant_id, created_at);
-- Cash collected in a period, by week and method, with fees and surcharges.
CREATE INDEX payments_ar_succeeded ON payments (tenant_id, succeeded_at)
  INCLUDE (currency, amount_minor, fee_minor, surcharge_minor, discount_minor, processor, method_kind, state)
  WHERE succeeded_at IS NOT NULL;
-- Payments started in a period: failure and recovery rates.
CREATE INDEX payments_ar_created ON payments (tenant_id, created_at);
