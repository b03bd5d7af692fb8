// Helpers shared by the collections-*.test.ts files: pay in the portal with amounts, create a new invoice
// in ConnectWise (and its mirror in QuickBooks), read what Settle stored.
import { withTenant } from '../../src/db/tenant.ts';
import { toDecimalString, money } from '../../src/domain/money.ts';
import { eventually, type Stack } from '../helpers/stack.ts';

export interface PortalItem {
  readonly invoice_id: string;
  readonly amount?: string;
}

/** What the portal page does for a bank account or a card when the MSP does not surcharge. */
export async function portalPay(
  stack: Stack,
  token: string,
  invoices: readonly PortalItem[],
  pm = 'pm_card_visa',
): Promise<{ paymentId: string | null; intentId: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoices, method: 'card' }),
  });
  const body = (await res.json()) as { payment_id: string | null; client_secret?: string; covered_by_credit?: boolean };
  if (!res.ok) throw new Error(`portal pay failed (${res.status}): ${JSON.stringify(body)}`);
  if (body.covered_by_credit) return { paymentId: null, intentId: null, body };
  const intentId = body.client_secret!.split('_secret_')[0]!;
  const confirm = await fetch(`${stack.sims.stripe.baseUrl}/v1/payment_intents/${intentId}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.sims.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payment_method: pm }).toString(),
  });
  if (!confirm.ok) throw new Error(`confirm failed: ${await confirm.text()}`);
  return { paymentId: body.payment_id, intentId, body };
}

export async function invoiceRow(
  stack: Stack,
  id: string,
): Promise<{ status: string; paid_minor: bigint; total_minor: bigint; psa_balance_minor: bigint; number: string }> {
  return withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('invoices').select(['status', 'paid_minor', 'total_minor', 'psa_balance_minor', 'number']).where('id', '=', id).executeTakeFirstOrThrow(),
  );
}

/** Wait until every posting of the payment is posted; returns them. */
export async function postingsPosted(
  stack: Stack,
  paymentId: string,
  expected = 2,
): Promise<{ target: string; invoice_id: string | null; amount_minor: bigint; remote_id: string | null }[]> {
  return eventually(
    async () => {
      const rows = await withTenant(stack.database.db, stack.tenantId, (tx) =>
        tx.selectFrom('postings').select(['target', 'invoice_id', 'amount_minor', 'remote_id', 'status']).where('payment_id', '=', paymentId).execute(),
      );
      return rows.length === expected && rows.every((r) => r.status === 'posted') ? rows : null;
    },
    15_000,
    `postings of payment ${paymentId} posted`,
  );
}

export async function paymentState(stack: Stack, paymentId: string): Promise<string> {
  const p = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('payments').select('state').where('id', '=', paymentId).executeTakeFirstOrThrow(),
  );
  return p.state;
}

/** ConnectWise payments on an invoice, in cents. */
export function cwPaymentsCents(stack: Stack, remoteId: string | number): number[] {
  return stack.sims.connectwise.sim.paymentsFor(Number(remoteId)).map((p) => Math.round(Number(p.amount) * 100));
}

/** QuickBooks Payments applied to the invoice numbered `docNumber`, in cents. */
export function qboPaymentsCents(stack: Stack, docNumber: string): number[] {
  const inv = stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === docNumber);
  if (!inv) return [];
  return stack.sims.quickbooks.sim
    .payments()
    .flatMap((p) =>
      (p['Line'] as { Amount: number; LinkedTxn: { TxnId: string; TxnType: string }[] }[]).filter((l) =>
        l.LinkedTxn.some((t) => t.TxnType === 'Invoice' && t.TxnId === inv['Id']),
      ),
    )
    .map((l) => Math.round(l.Amount * 100));
}

/** A new invoice for the client in ConnectWise, pushed to Settle by callback, and mirrored into the books. */
export async function newInvoice(
  stack: Stack,
  clientId: string,
  price: string,
  quantity = 1,
): Promise<{ id: string; remote: string; number: string; total: bigint }> {
  const clientRemote = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('external_refs').select('remote_id').where('entity', '=', 'client').where('entity_id', '=', clientId).executeTakeFirstOrThrow(),
  );
  const cw = stack.sims.connectwise.sim.createInvoice({
    companyId: Number(clientRemote.remote_id),
    lines: [{ kind: 'product', description: 'Managed services', quantity, price }],
  });
  await stack.sims.connectwise.sim.flushCallbacks();
  const row = await eventually(
    () =>
      withTenant(stack.database.db, stack.tenantId, (tx) =>
        tx
          .selectFrom('invoices as i')
          .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'i.id').on('r.entity', '=', 'invoice'))
          .select(['i.id', 'i.number', 'i.total_minor', 'i.client_id'])
          .where('r.remote_id', '=', String(cw.id))
          .executeTakeFirst(),
      ),
    15_000,
    'new invoice in Settle',
  );
  const clientName = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('clients').select('name').where('id', '=', clientId).executeTakeFirstOrThrow(),
  );
  stack.sims.quickbooks.sim.seedInvoice({ docNumber: row.number, customerName: clientName.name, amount: toDecimalString(money(row.total_minor, 'USD')) });
  return { id: row.id, remote: String(cw.id), number: row.number, total: row.total_minor };
}
