-- Bank ACH money to the books (issue #6 item 5). Each settlement the bank credits (per NACHA file and
-- effective date) is a `payouts` row of processor 'bank-ach' and becomes one books deposit, through the same
-- deposit machinery as processor payouts (clearing lines for payments not in the books yet); each return
-- of a debit is a bank debit of its own (a negative 'bank-ach' payout) booked against the clearing account
-- by a 'bank_withdrawal' posting. The bank reports what it credited and debited in a previous-day BAI2
-- statement on its SFTP server: stored first like every bank file, its detail lines kept here and matched
-- to those payouts. See docs/architecture.md "Bank ACH".

ALTER TABLE ach_inbound_files DROP CONSTRAINT ach_inbound_files_kind_check;
ALTER TABLE ach_inbound_files ADD CONSTRAINT ach_inbound_files_kind_check CHECK (kind IN ('ack', 'returns', 'statement'));

ALTER TABLE postings DROP CONSTRAINT postings_kind_check;
ALTER TABLE postings ADD CONSTRAINT postings_kind_check
  CHECK (kind IN ('payment', 'deposit', 'payment_reversal', 'refund', 'bank_withdrawal'));

-- One transaction detail (16) record of a BAI2 statement: the bank's own line for money in or out.
CREATE TABLE bank_statement_lines (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  inbound_file_id uuid NOT NULL REFERENCES ach_inbound_files(id),
  line int NOT NULL, -- physical line of the 16 record in the statement file
  account_number text NOT NULL, -- the MSP's own account at the bank (not a client's)
  as_of_date date NOT NULL,
  type_code text NOT NULL CHECK (type_code ~ '^[0-9]{3}$'),
  direction text NOT NULL CHECK (direction IN ('credit', 'debit')),
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  currency text NOT NULL,
  bank_reference text,
  customer_reference text,
  text text,
  payout_id uuid REFERENCES payouts(id), -- the settlement or return it was matched to
  matched_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (inbound_file_id, line)
);
-- A bank line is matched to one settlement/return, and one settlement/return to one bank line.
CREATE UNIQUE INDEX bank_statement_lines_payout ON bank_statement_lines (payout_id) WHERE payout_id IS NOT NULL;
CREATE INDEX bank_statement_lines_unmatched ON bank_statement_lines (tenant_id, as_of_date) WHERE payout_id IS NULL;

ALTER TABLE bank_statement_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE bank_statement_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bank_statement_lines USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
