import type { ColumnType, Generated } from 'kysely';
import type { Created, Updated } from './columns.ts';

// ---- 0030_installment_offers: the plans clients may choose themselves in the portal ----
export type OfferMethod = 'card' | 'us_bank_account';
export interface InstallmentOffersTable {
  id: Generated<string>;
  tenant_id: string;
  label: string;
  parts: number;
  every_days: number;
  currency: Generated<string>;
  min_owed_minor: bigint;
  fee_flat_minor: Generated<bigint>;
  fee_bps: Generated<number>;
  /** Postgres text[]: read as an array, written as a '{card,us_bank_account}' literal. */
  methods: ColumnType<OfferMethod[], string, string>;
  enabled: Generated<boolean>;
  created_at: Created;
  updated_at: Updated;
}
