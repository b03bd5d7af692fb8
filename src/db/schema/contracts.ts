// ---- 0035_invoice_contracts: the contract of each invoice line, and the contract kinds an autopay rule covers ----
import type { ContractKind } from '../../domain/contracts.ts';

/** Columns 0035 adds to invoice_lines (all null, or all set). */
export interface InvoiceLineContractColumns {
  contract_ref: string | null;
  contract_name: string | null;
  contract_kind: ContractKind | null;
}

/** Column 0035 adds to autopay_rules: kinds of contract covered (`none` = no contract); null = any. */
export interface AutopayRuleContractColumns {
  contract_kinds: string[] | null;
}
