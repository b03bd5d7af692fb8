-- Staff pages on a 1,000,000-invoice book (issue #9, bench/staff-pages.ts). Measured with EXPLAIN (ANALYZE,
-- BUFFERS) on the bench's seeded book: the dashboard's positions read every open invoice's whole row from
-- the heap (tens of thousands of scattered pages) and probed allocations and postings from the heap for each
-- invoice Settle was paid on; the failure rate read every payment of the period from the heap. These indexes
-- carry what those statements read, so the scans are index-only (the visibility map, kept by autovacuum,
-- decides how many heap visits remain). tenant_id is in each: the row-level security condition is then
-- answered from the index too.

-- What is owed now: the open invoices only (a partial index: a few percent of the book), with every column
-- the positions statement (db/queries/ar-metrics-sql.ts) and the client page's aging read.
CREATE INDEX invoices_ar_open ON invoices (tenant_id)
  INCLUDE (id, client_id, currency, due_on, issued_on, status, type, total_minor, psa_balance_minor, paid_minor, psa_updated_at)
  WHERE status IN ('open', 'partially_paid');

-- An invoice's allocations (its balance, "allocated since the period's end", days to pay's "latest standing
-- allocation"): the same key as 0003's allocations_by_invoice, now with what those read.
CREATE INDEX allocations_by_invoice_covering ON allocations (invoice_id)
  INCLUDE (tenant_id, payment_id, amount_minor, reversed_minor, created_at, id);
DROP INDEX IF EXISTS allocations_by_invoice;

-- "Has this allocation been written back to the PSA": a payment's postings, with what the check reads.
CREATE INDEX postings_by_payment_covering ON postings (payment_id)
  INCLUDE (tenant_id, invoice_id, target, kind, status) WHERE payment_id IS NOT NULL;
DROP INDEX IF EXISTS postings_by_payment;

-- Payments started in a period (failure and recovery rates): 0029's key with the columns counted.
CREATE INDEX payments_ar_created_covering ON payments (tenant_id, created_at)
  INCLUDE (currency, amount_minor, processor, state, succeeded_at, failure_code);
DROP INDEX IF EXISTS payments_ar_created;

-- An invoice's refunds and reversals written back to the PSA (its balance everywhere), with what is summed.
CREATE INDEX postings_by_invoice_covering ON postings (invoice_id)
  INCLUDE (tenant_id, target, kind, status, amount_minor) WHERE invoice_id IS NOT NULL;
DROP INDEX IF EXISTS postings_by_invoice;

-- Allocations made in a period (days to pay, what was owed at a period's end): 0029's key with what is read.
CREATE INDEX allocations_ar_created_covering ON allocations (tenant_id, created_at)
  INCLUDE (invoice_id, id, amount_minor, reversed_minor);
DROP INDEX IF EXISTS allocations_ar_created;

-- "Overdue" walks the unpaid invoices newest first and skips those not yet due (a month of them with net-30
-- terms): with the due date in the index the skipping is index-only instead of a heap visit per row.
CREATE INDEX invoices_list_unpaid_due ON invoices (tenant_id, issued_on, id) INCLUDE (due_on)
  WHERE status IN ('open', 'partially_paid');
DROP INDEX IF EXISTS invoices_list_unpaid;
