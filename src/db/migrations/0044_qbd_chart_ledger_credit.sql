-- QuickBooks Desktop completion (issue #11): the chart of accounts for the GL mapping, Settle's copy of the
-- books for the three-way reconciliation, and credit memos applied to invoices. QuickBooks Desktop is reached
-- only when the Web Connector polls, so each of these is first an item of the queue (qbd_work):
--   chart-read  — AccountQuery; the answer is kept in qbd_chart (the pickers and `settle doctor` use the last one);
--   ledger-read — InvoiceQuery / ReceivePaymentQuery / DepositQuery by ModifiedDateRangeFilter with iterators,
--                 each page stored into the books copy (books_invoices …) as it arrives; its per-entity cursors
--                 (QuickBooks' TimeModified) live in the item's context;
--   credit-memo — CreditMemoQuery by RefNumber, then ReceivePaymentAdd of 0.00 with SetCredit on the invoice.
ALTER TABLE qbd_work DROP CONSTRAINT qbd_work_kind_check;
ALTER TABLE qbd_work ADD CONSTRAINT qbd_work_kind_check
  CHECK (kind IN ('payment', 'deposit', 'reversal', 'invoice-lookup', 'chart-read', 'ledger-read', 'credit-memo'));
-- read: a query whose answer is the point (chart, books copy); credit: find the credit memo by its number.
ALTER TABLE qbd_work DROP CONSTRAINT qbd_work_step_check;
ALTER TABLE qbd_work ADD CONSTRAINT qbd_work_step_check CHECK (step IN ('lookup', 'check', 'add', 'read', 'credit'));

-- The company file's chart of accounts as the Web Connector last brought it (active accounts, ledger-neutral
-- LedgerAccount JSON: ListID, full name, type, the roles it may take).
CREATE TABLE qbd_chart (
  tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
  accounts jsonb NOT NULL,
  read_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE qbd_chart ENABLE ROW LEVEL SECURITY;
ALTER TABLE qbd_chart FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON qbd_chart USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
