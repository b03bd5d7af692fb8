-- When Settle last fetched each invoice from the PSA (the moment the request was sent). PSA timestamps
-- are not fine enough to order two reads of the same second (ConnectWise's lastUpdated has whole seconds):
-- a read that started before our own payment write-back must not overwrite the read-back that followed it.
ALTER TABLE invoices ADD COLUMN psa_fetched_at timestamptz;
