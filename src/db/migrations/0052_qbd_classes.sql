-- QuickBooks Desktop (issue #11), second round.
-- Classes: the company file's active classes as the Web Connector last brought them (ClassQuery, after the
-- chart's AccountQuery): ledger-neutral options {id: ListID, name: FullName}, offered as the "Class" dimension
-- of the GL mapping's rules by contract kind and checked by `settle doctor`. qbd_chart already carries
-- tenant_id and its row-level security policy (0044).
ALTER TABLE qbd_chart ADD COLUMN classes jsonb NOT NULL DEFAULT '[]'::jsonb;

-- deposit-mod: the three-way reconciliation's "deposit edited by hand" fix — DepositQuery by TxnID (the
-- deposit's EditSequence and total: nothing to do when it equals the payout again), then DepositMod restating
-- every line as Settle posts it (deposit-restore.ts).
ALTER TABLE qbd_work DROP CONSTRAINT qbd_work_kind_check;
ALTER TABLE qbd_work ADD CONSTRAINT qbd_work_kind_check
  CHECK (kind IN ('payment', 'deposit', 'reversal', 'invoice-lookup', 'chart-read', 'ledger-read', 'credit-memo', 'deposit-mod'));
