import type { Generated } from 'kysely';
import type { Created } from './columns.ts';

// ---- 0036_invoice_pay_links: one pay link per open invoice, written into the PSA once ----
export type PayLinkPsaState = 'pending' | 'written' | 'field_missing' | 'not_written';
export interface InvoicePayLinksTable {
  id: Generated<string>;
  tenant_id: string;
  invoice_id: string;
  created_at: Created;
  created_by: string;
  revoked_at: Date | null;
  revoked_by: string | null;
  psa_state: Generated<PayLinkPsaState>;
  psa_vendor: string | null;
  psa_field: string | null;
  psa_written_at: Date | null;
}

export interface ConnectionPayLinkColumns {
  pay_links_from: Generated<Date | null>;
}
