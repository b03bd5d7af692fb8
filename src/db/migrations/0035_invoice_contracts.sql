-- Contracts on invoices (issue #10): each invoice line carries the contract it is billed under in the PSA
-- (ConnectWise agreement, Autotask contract/project/ticket, Halo contract/recurring invoice), as the PSA's id,
-- a name staff recognise and Settle's contract kind (domain/contracts.ts; the mapping table is in
-- docs/architecture.md "Contracts"). All three null: no contract (or an invoice stored before this).
ALTER TABLE invoice_lines
  ADD COLUMN contract_ref text,
  ADD COLUMN contract_name text,
  ADD COLUMN contract_kind text
    CHECK (contract_kind IN ('managed_services', 'per_device', 'block_hours', 'project', 'time_and_materials')),
  ADD CONSTRAINT invoice_lines_contract_whole
    CHECK ((contract_ref IS NULL) = (contract_kind IS NULL) AND (contract_ref IS NULL) = (contract_name IS NULL));

-- Which contract kinds a rule charges automatically ('none' = lines under no contract); null = any. An
-- invoice the rule matches with a line of another kind waits for staff approval (reason
-- contract_not_covered) instead of being charged.
ALTER TABLE autopay_rules
  ADD COLUMN contract_kinds text[]
    CHECK (contract_kinds IS NULL OR contract_kinds <@ ARRAY['managed_services', 'per_device', 'block_hours', 'project',
                                                            'time_and_materials', 'none']::text[]);
