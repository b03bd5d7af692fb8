// A book of invoices and payments written straight into the tables, with the dates a test needs (the A/R
// dashboard's figures depend on when things happened, which the engine would stamp with the real clock).
import type { Tx } from '../../src/db/tenant.ts';

export interface InvoiceSpec {
  client: string;
  number: string;
  currency?: string;
  total: bigint;
  psaBalance: bigint;
  paid?: bigint;
  status: 'open' | 'partially_paid' | 'paid' | 'void';
  issued: string;
  due: string;
  psaUpdatedAt: string;
}

export async function insertInvoice(tx: Tx, tenant: string, s: InvoiceSpec): Promise<string> {
  const r = await tx
    .insertInto('invoices')
    .values({
      tenant_id: tenant,
      client_id: s.client,
      number: s.number,
      type: 'standard',
      currency: s.currency ?? 'USD',
      total_minor: s.total,
      psa_balance_minor: s.psaBalance,
      paid_minor: s.paid ?? 0n,
      status: s.status,
      psa_status: s.status === 'void' ? 'Void' : 'Sent',
      issued_on: s.issued,
      due_on: s.due,
      psa_updated_at: new Date(s.psaUpdatedAt),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

export interface PaymentSpec {
  client: string;
  currency?: string;
  amount: bigint;
  state: 'succeeded' | 'failed';
  at: string;
  processor?: string;
  kind: 'card' | 'us_bank_account';
  fee?: bigint | null;
  surcharge?: bigint;
  failureCode?: string;
  /** invoice id → amount planned (and, for a success, allocated) */
  pays: Array<[string, bigint]>;
}

export async function insertPayment(tx: Tx, tenant: string, s: PaymentSpec): Promise<string> {
  const at = new Date(s.at);
  const r = await tx
    .insertInto('payments')
    .values({
      tenant_id: tenant,
      client_id: s.client,
      currency: s.currency ?? 'USD',
      amount_minor: s.amount,
      surcharge_minor: s.surcharge ?? 0n,
      planned_allocations: JSON.stringify(s.pays.map(([invoiceId, a]) => ({ invoiceId, amountMinor: a.toString() }))),
      fee_minor: s.fee ?? null,
      state: s.state,
      source: 'portal',
      processor: s.processor ?? 'stripe',
      processor_payment_id: `pi_${Math.random().toString(36).slice(2)}`,
      method_kind: s.kind,
      failure_code: s.state === 'failed' ? (s.failureCode ?? 'card_declined') : null,
      succeeded_at: s.state === 'succeeded' ? at : null,
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (s.state === 'succeeded') {
    for (const [invoiceId, a] of s.pays) {
      await tx.insertInto('allocations').values({ tenant_id: tenant, payment_id: r.id, invoice_id: invoiceId, amount_minor: a, created_at: at }).execute();
    }
  }
  return r.id;
}
