-- The staff invoice list, invoice page and client pages (issue #9; db/queries/invoice-list.ts,
-- invoice-timeline.ts, client-pages.ts). The list is paged by keyset — (sort key, id) after the last row
-- shown — so every sort needs a b-tree on (tenant_id, sort key, id): the first page and page 20,000 cost the
-- same. Sized for 1,000,000 invoices and 10,000 clients in one workspace.
--
-- Row-level security shapes these: a condition that calls anything not LEAKPROOF (LIKE, ILIKE, upper())
-- is evaluated only after the tenant policy, so it can never be an index condition. The number search is
-- therefore a range on a stored upper-cased copy of the number (text comparisons are leakproof), and the
-- client-name search reads the clients table (10,000 rows, a few ms) and passes the matching ids as an
-- array (uuid equality is leakproof). A trigram index would be ignored for the same reason, so none.

CREATE INDEX invoices_list_issued ON invoices (tenant_id, issued_on, id);
-- A missing due date sorts after every real one.
CREATE INDEX invoices_list_due ON invoices (tenant_id, (coalesce(due_on, 'infinity'::date)), id);
CREATE INDEX invoices_list_amount ON invoices (tenant_id, total_minor, id);
-- Number order and number-prefix search: case-insensitive, in byte order (no locale rules in between, so
-- "every number starting with P" is one index range). Adding it rewrites the table once.
ALTER TABLE invoices ADD COLUMN number_key text COLLATE "C" GENERATED ALWAYS AS (upper(number)) STORED;
CREATE INDEX invoices_list_number ON invoices (tenant_id, number_key, id);
CREATE INDEX invoices_list_status ON invoices (tenant_id, status, issued_on, id);
CREATE INDEX invoices_list_client ON invoices (tenant_id, client_id, issued_on, id);
-- "Overdue" is an unpaid invoice past its due date: walk the unpaid ones newest first.
CREATE INDEX invoices_list_unpaid ON invoices (tenant_id, issued_on, id) WHERE status IN ('open', 'partially_paid');

-- The clients list in name order, keyset-paged (plain text comparisons: leakproof, so an index condition).
CREATE INDEX clients_list_name ON clients (tenant_id, name, id);

-- The invoice page's timeline: what the vendors sent about this invoice (a PSA notice names the invoice's
-- PSA id, a processor event the payment's id), and what the audit log says about it and its payments.
CREATE INDEX inbox_events_subject ON inbox_events (tenant_id, source, (coalesce(payload ->> 'externalId', payload ->> 'processorPaymentId')));
CREATE INDEX audit_log_subject ON audit_log (tenant_id, subject_type, subject_id);
CREATE INDEX IF NOT EXISTS payment_events_payment ON payment_events (payment_id);
CREATE INDEX IF NOT EXISTS payments_client ON payments (tenant_id, client_id, created_at);
