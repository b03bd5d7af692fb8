// Staff → Payouts: what the processor sent to the bank and whether the books have the deposit for it.
//   GET /app/payouts       newest first, keyset paging; composition and deposit state per payout (viewer)
//   GET /app/payouts/:id   one payout: payments, fees, refunds, adjustments; the deposit in the books, its
//                          lines (linked to the payment, or on the clearing account until the payment is in
//                          the books) and whether it equals the bank line                         (viewer)
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { listPayouts, payoutDetail } from '../../db/queries/payouts.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { vendorName } from '../../engine/posting-exceptions.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { notFound } from './payments.ts';
import { renderStaff } from './view.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route reached without a caller (authorize.ts runs first)');
  return req.caller;
};

/** The payout's parts by what they are, in the order a bookkeeper reads a deposit. */
const GROUPS: readonly { key: string; label: string; types: readonly string[] }[] = [
  { key: 'payments', label: 'Payments', types: ['charge', 'payment'] },
  { key: 'refunds', label: 'Refunds', types: ['refund'] },
  { key: 'adjustments', label: 'Adjustments (disputes, returns, other)', types: ['adjustment', 'other'] },
  { key: 'fees', label: 'Fees charged separately', types: ['fee'] },
];

export function depositWords(status: string | null, vendor: string | null): string {
  if (!status) return 'no books connected';
  const v = vendorName(vendor ?? '');
  return status === 'posted' ? `in ${v}` : status === 'failed' ? `failed in ${v}` : `waiting to post to ${v}`;
}

export function registerPayoutsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  app.get<{ Querystring: { after?: string } }>('/app/payouts', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const page = await withTenant(db, caller.tenantId, (tx) => listPayouts(tx, req.query.after));
    return renderStaff(req, reply, 'payouts', {
      title: 'Payouts',
      rows: page.rows.map((r) => ({ ...r, processorName: vendorName(r.processor), depositText: depositWords(r.deposit_status, r.deposit_vendor) })),
      nextHref: page.next ? `/app/payouts?after=${page.next}` : null,
      firstHref: req.query.after ? '/app/payouts' : null,
    });
  });

  app.get<{ Params: { id: string } }>('/app/payouts/:id', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const d = await withTenant(db, caller.tenantId, (tx) => payoutDetail(tx, req.params.id));
    if (!d) return notFound(req, reply);
    const p = d.payout;
    const groups = GROUPS.map((g) => {
      const items = d.items.filter((i) => g.types.includes(i.type));
      return {
        ...g,
        items,
        gross: items.reduce((s, i) => s + i.gross_minor, 0n),
        fees: items.reduce((s, i) => s + i.fee_minor, 0n),
        net: items.reduce((s, i) => s + i.net_minor, 0n),
      };
    }).filter((g) => g.items.length > 0);
    const net = d.items.reduce((s, i) => s + i.net_minor, 0n);
    const deposit = d.deposits[0] ?? null;
    const bank = d.bankLine ? (d.bankLine.direction === 'credit' ? d.bankLine.amount_minor : -d.bankLine.amount_minor) : p.amount_minor;
    return renderStaff(req, reply, 'payout', {
      title: `Payout of ${format(money(p.amount_minor, parseCurrency(p.currency)))} on ${String(p.arrival_date).slice(0, 10)}`,
      p,
      processorName: vendorName(p.processor),
      groups,
      itemsNet: net,
      // The parts add up to the payout (any difference was booked as an adjustment when it was reconciled).
      partsMatch: net === p.amount_minor,
      deposit: deposit ? { ...deposit, vendorName: vendorName(deposit.vendor), text: depositWords(deposit.status, deposit.vendor) } : null,
      lines: d.lines,
      clearing: d.lines.filter((l) => l.status === 'clearing').length,
      bankLine: d.bankLine,
      bankAmount: bank,
      depositMatches: deposit ? deposit.amount_minor === bank : null,
    });
  });
}
