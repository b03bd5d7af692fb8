-- Credit memos from the PSA (issue #11): a credit memo applied to an invoice in the PSA is applied the same way
-- in the books — the memo the PSA's own accounting export created there, found by its number, against the same
-- invoice; Settle never creates one. Each application the PSA reports becomes one books posting of kind
-- 'credit_memo' (pending → posted, waiting while the memo or the invoice is not in the books yet, failed with a
-- person told), and a row here naming the memo and the PSA's record of the application (found once).
-- (Second file under the number 0041 assigned to this work: 0041_gl_tracking_rules.sql was committed first.)
ALTER TABLE postings DROP CONSTRAINT postings_kind_check;
ALTER TABLE postings ADD CONSTRAINT postings_kind_check
  CHECK (kind IN ('payment', 'deposit', 'payment_reversal', 'refund', 'bank_withdrawal', 'credit_memo'));

CREATE TABLE credit_memo_applications (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  -- The PSA's id of the application (ConnectWise: the invoice payment row naming the credit).
  psa_remote_id text NOT NULL,
  invoice_id uuid NOT NULL REFERENCES invoices(id),
  credit_memo_number text NOT NULL,
  applied_on date NOT NULL,
  posting_id uuid NOT NULL UNIQUE REFERENCES postings(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, psa_remote_id)
);

-- The PSA's last-updated time of the invoice when Settle last asked the PSA which credit memos were applied to
-- it; asked again once the PSA changed the invoice since (and its balance fell by more than Settle's payments).
ALTER TABLE invoices ADD COLUMN credits_checked_psa_at timestamptz;

ALTER TABLE credit_memo_applications ENABLE ROW LEVEL SECURITY;
ALTER TABLE credit_memo_applications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON credit_memo_applications USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
