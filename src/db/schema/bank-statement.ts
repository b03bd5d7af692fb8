import type { Generated } from 'kysely';
import type { Created, DateText } from './columns.ts';

// ---- 0013_ach_bank_statement: the bank's BAI2 statement lines, matched to bank-ACH settlements and returns ----
export interface BankStatementLinesTable {
  id: Generated<string>;
  tenant_id: string;
  inbound_file_id: string;
  line: number;
  account_number: string;
  as_of_date: DateText;
  type_code: string;
  direction: 'credit' | 'debit';
  amount_minor: bigint;
  currency: string;
  bank_reference: string | null;
  customer_reference: string | null;
  text: string | null;
  payout_id: string | null;
  matched_at: Date | null;
  created_at: Created;
}
