-- Direct bank ACH (issue #3): debits originated by NACHA file to the MSP's own bank over SFTP, and the
-- return / notification-of-change files the bank drops back (payments-rules.md §2). See docs/architecture.md
-- "Bank ACH" for the life of an entry. No column anywhere holds a bank account number in clear: account
-- numbers, and the files that carry them, are sealed with the instance key bound to the tenant (Nacha's
-- "unreadable when stored" rule, §2.7 and §6); only the last four digits are stored readable.

-- Bank ACH is a payments rail of its own beside the card processor (cards and Stripe ACH through Stripe, NACHA
-- files through the bank), so it gets its own connection role: a workspace keeps one connection per role.
ALTER TABLE connections DROP CONSTRAINT connections_role_check;
ALTER TABLE connections ADD CONSTRAINT connections_role_check CHECK (role IN ('psa', 'payments', 'accounting', 'bank_ach'));

-- A client's bank account that Settle debits by NACHA file, with the SEC code its authorization allows
-- (§2.2: CCD for business accounts, PPD for a signed authorization of a personal account, WEB when a person
-- authorized online).
CREATE TABLE ach_bank_accounts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  holder_name text NOT NULL,
  holder_kind text NOT NULL CHECK (holder_kind IN ('business', 'personal')),
  sec_code text NOT NULL CHECK (sec_code IN ('CCD', 'PPD', 'WEB')),
  routing_number text NOT NULL CHECK (routing_number ~ '^[0-9]{9}$'), -- public bank identifier, not a secret
  account_sealed text NOT NULL,
  account_last4 text NOT NULL CHECK (account_last4 ~ '^[0-9A-Za-z-]{1,4}$'),
  account_type text NOT NULL CHECK (account_type IN ('checking', 'savings')),
  receiver_id text, -- individual ID / company ID the receiver knows the originator by (NOC C09/C11)
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'disabled')),
  status_reason text,
  -- §2.7 WEB debit account validation on first use: a prenote that must pass before the first live debit
  validation text NOT NULL CHECK (validation IN ('not_required', 'pending', 'validated', 'failed')),
  validated_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ach_bank_accounts_client ON ach_bank_accounts (tenant_id, client_id);

-- The authorization, exactly as the client agreed to it. Append-only apart from revocation.
CREATE TABLE ach_mandates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  bank_account_id uuid NOT NULL UNIQUE REFERENCES ach_bank_accounts(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  text text NOT NULL,
  text_sha256 text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('portal', 'staff')),
  accepted_by text NOT NULL, -- 'client:<id>' or 'user:<id>' / 'api_key:<id>' for a signed paper form
  accepted_at timestamptz NOT NULL,
  accepted_ip text NOT NULL,
  user_agent text,
  revoked_at timestamptz,
  revoked_reason text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION settle_ach_mandate_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR NEW.text <> OLD.text OR NEW.text_sha256 <> OLD.text_sha256 OR NEW.accepted_at <> OLD.accepted_at
     OR NEW.accepted_ip <> OLD.accepted_ip OR NEW.accepted_by <> OLD.accepted_by OR NEW.bank_account_id <> OLD.bank_account_id THEN
    RAISE EXCEPTION 'an ACH mandate records what the client agreed to and cannot be changed; only revoked';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ach_mandates_immutable BEFORE UPDATE OR DELETE ON ach_mandates
  FOR EACH ROW EXECUTE FUNCTION settle_ach_mandate_immutable();

-- The archive of every file built for the bank: the bytes (sealed: they carry account numbers), their hash,
-- the controls, and what the bank said. (file_date, file_id_modifier) is the file's identity at the bank
-- (§2.1: A-Z, 0-9 for several files a day); the name is derived from it, so a rebuilt or re-sent file is
-- always recognisable.
CREATE TABLE ach_files (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  file_name text NOT NULL,
  file_date date NOT NULL,
  file_id_modifier text NOT NULL CHECK (file_id_modifier ~ '^[A-Z0-9]$'),
  window_id text NOT NULL, -- the cut-off the file was built for
  content_sealed text NOT NULL,
  sha256 text NOT NULL,
  byte_size int NOT NULL,
  batch_count int NOT NULL,
  entry_count int NOT NULL,
  total_debit_minor bigint NOT NULL,
  total_credit_minor bigint NOT NULL,
  first_trace_seq int NOT NULL,
  last_trace_seq int NOT NULL,
  status text NOT NULL DEFAULT 'built' CHECK (status IN ('built', 'sent', 'accepted', 'rejected')),
  upload_attempts int NOT NULL DEFAULT 0,
  last_error text,
  remote_path text,
  sent_at timestamptz,
  delivery text CHECK (delivery IN ('uploaded', 'already_at_bank')),
  ack_file_name text,
  ack_text text,
  ack_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, file_date, file_id_modifier),
  UNIQUE (tenant_id, file_name),
  UNIQUE (tenant_id, file_date, window_id)
);

-- One presentment of a debit (or a prenote). A reinitiation (§2.5) is a new row pointing at the original.
-- An entry is in at most one file: file_id is set once, in the transaction that builds the file.
CREATE TABLE ach_entries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  payment_id uuid REFERENCES payments(id),
  bank_account_id uuid NOT NULL REFERENCES ach_bank_accounts(id),
  kind text NOT NULL CHECK (kind IN ('debit', 'prenote')),
  presentment int NOT NULL DEFAULT 1 CHECK (presentment BETWEEN 1 AND 3),
  original_entry_id uuid REFERENCES ach_entries(id),
  sec_code text NOT NULL CHECK (sec_code IN ('CCD', 'PPD', 'WEB')),
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  currency text NOT NULL DEFAULT 'USD' CHECK (currency = 'USD'),
  company_name text NOT NULL,
  company_id text NOT NULL,
  entry_description text NOT NULL,
  remittance text, -- CCD+ addenda 05 (invoice numbers)
  same_day boolean NOT NULL DEFAULT false,
  not_before date NOT NULL,
  latest_on date, -- reinitiations: the last day of the 180-day window
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'batched', 'sent', 'settled', 'returned', 'cancelled')),
  status_reason text,
  file_id uuid REFERENCES ach_files(id),
  trace_number text CHECK (trace_number ~ '^[0-9]{15}$'),
  effective_date date,
  settled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (payment_id, presentment),
  CHECK (status IN ('pending', 'cancelled') OR (file_id IS NOT NULL AND trace_number IS NOT NULL)),
  CHECK (kind = 'prenote' OR payment_id IS NOT NULL)
);
CREATE INDEX ach_entries_ready ON ach_entries (tenant_id, not_before) WHERE status = 'pending';
CREATE INDEX ach_entries_trace ON ach_entries (tenant_id, trace_number);
CREATE INDEX ach_entries_sent ON ach_entries (tenant_id, effective_date) WHERE status = 'sent';

-- The inbox for files the bank drops in its outbox (acknowledgements, returns, NOCs): stored, sealed,
-- before anything acts on them, and recognised again by name and hash.
CREATE TABLE ach_inbound_files (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  remote_name text NOT NULL,
  sha256 text NOT NULL,
  byte_size int NOT NULL,
  content_sealed text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('ack', 'returns')),
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  UNIQUE (tenant_id, remote_name, sha256)
);

-- Each return (addenda 99) and notification of change (addenda 98) applied, with the decision taken.
CREATE TABLE ach_entry_notices (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  inbound_file_id uuid NOT NULL REFERENCES ach_inbound_files(id),
  addenda_line int NOT NULL,
  entry_id uuid REFERENCES ach_entries(id), -- null when the trace matches nothing we sent
  kind text NOT NULL CHECK (kind IN ('return', 'noc')),
  code text NOT NULL,
  outcome text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}', -- never an account number
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (inbound_file_id, addenda_line)
);
CREATE UNIQUE INDEX ach_one_return_per_entry ON ach_entry_notices (entry_id) WHERE kind = 'return' AND entry_id IS NOT NULL;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['ach_bank_accounts', 'ach_mandates', 'ach_files', 'ach_entries', 'ach_inbound_files', 'ach_entry_notices']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = settle_current_tenant()) '
                   'WITH CHECK (tenant_id = settle_current_tenant())', t);
  END LOOP;
END $$;
