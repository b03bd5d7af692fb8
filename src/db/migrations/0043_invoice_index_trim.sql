-- Two of the invoices table's fourteen indexes said nothing another did not (issue #10: every index is
-- written for every imported invoice, and the 100,000-invoice import must stay within 30 s).
-- invoices_client (tenant_id, client_id) is the leading part of invoices_list_client (tenant_id, client_id,
-- issued_on, id), which answers every lookup it did.
DROP INDEX IF EXISTS invoices_client;
-- invoices_list_issued (tenant_id, issued_on, id) for the staff list's keyset and invoices_ar_issued
-- (tenant_id, issued_on) INCLUDE (…) for the dashboard's index-only sums: one index with the list's key and
-- the dashboard's columns does both.
CREATE INDEX invoices_issued ON invoices (tenant_id, issued_on, id) INCLUDE (currency, total_minor, status, type);
DROP INDEX IF EXISTS invoices_list_issued;
DROP INDEX IF EXISTS invoices_ar_issued;
