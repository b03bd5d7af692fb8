// Portal side of collections: amounts per invoice (pay part of an invoice, or several at once), the
// client's credit and installment plans shown on the page, and the card flow that shows the surcharge and
// its disclosure BEFORE the client confirms (engine/pay-card-with-surcharge.ts):
//   POST /portal/:token/quote     {invoices:[{invoice_id, amount?}], payment_method: 'pm_…'} → the review
//   POST /portal/:token/pay-card  {quote_id, accepted_total_minor}                             → the charge
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { format, money, MoneyError, parseCurrency, parseDecimal } from '../../domain/money.ts';
import { formatBps } from '../../domain/rules/surcharge.ts';
import { UseCaseError } from '../../engine/context.ts';
import { creditBalance } from '../../engine/client-credit.ts';
import { describePlans } from '../../engine/installment-plans.ts';
import type { InvoiceChoice } from '../../engine/plan-payment.ts';
import { payQuotedCard, quoteCardPayment } from '../../engine/pay-card-with-surcharge.ts';
import { STATUS } from '../errors.ts';
import type { HttpDeps } from '../deps.ts';
import { openPortal } from './pages.ts';

/** What the page posts for each chosen invoice: an amount as the client typed it ("120.50"), or none for all of it. */
export const portalInvoices = z
  .array(z.object({ invoice_id: z.string().uuid(), amount: z.string().max(20).optional() }))
  .min(1)
  .max(100);

/** Decimal amounts typed by the client, read in each invoice's currency (never through a float). */
export async function portalChoices(tx: Tx, clientId: string, items: z.infer<typeof portalInvoices>): Promise<InvoiceChoice[]> {
  const rows = await tx
    .selectFrom('invoices')
    .select(['id', 'client_id', 'currency', 'number'])
    .where(
      'id',
      'in',
      items.map((i) => i.invoice_id),
    )
    .execute();
  return items.map((i) => {
    const inv = rows.find((r) => r.id === i.invoice_id);
    if (!inv || inv.client_id !== clientId) throw new UseCaseError('not_found', 'one or more invoices do not exist for this client');
    if (i.amount === undefined || i.amount.trim() === '') return { invoiceId: i.invoice_id };
    let amountMinor: bigint;
    try {
      amountMinor = parseDecimal(i.amount.trim().replace(/^\$/, '').replace(/,/g, ''), parseCurrency(inv.currency)).amountMinor;
    } catch (e) {
      if (e instanceof MoneyError)
        throw new UseCaseError('invalid', `the amount for invoice ${inv.number} ("${i.amount}") is not an amount; type it like 120.50`);
      throw e;
    }
    if (amountMinor <= 0n) throw new UseCaseError('invalid', `the amount for invoice ${inv.number} must be more than zero`);
    return { invoiceId: i.invoice_id, amountMinor };
  });
}

export async function surchargeEnabled(tx: Tx): Promise<boolean> {
  const s = await tx.selectFrom('surcharge_settings').select('enabled').executeTakeFirst();
  return s?.enabled ?? false;
}

/** The client's credit and active installment plans, shown above the invoices (views/partials/collections.eta). */
export interface CollectionsPanel {
  /** "$150.00" (several currencies joined), or null with no credit. */
  readonly credit: string | null;
  readonly plans: readonly {
    readonly id: string;
    readonly invoiceNumber: string;
    /** "$30.01" when the plan has a fee (charged with part 1, whose amount includes it), else null. */
    readonly fee: string | null;
    readonly parts: readonly { partNo: number; dueOn: string; amount: string; status: string }[];
  }[];
}

export async function collectionsPanel(tx: Tx, clientId: string): Promise<CollectionsPanel> {
  const credit = [...(await creditBalance(tx, clientId))].filter(([, n]) => n > 0n);
  const plans = (await describePlans(tx, { clientId })).filter((p) => p.status === 'active');
  const m = (n: bigint, c: string) => format(money(n, parseCurrency(c)));
  return {
    credit: credit.length ? credit.map(([c, n]) => m(n, c)).join(', ') : null,
    plans: plans.map((p) => ({
      id: p.id,
      invoiceNumber: p.invoiceNumber,
      fee: p.feeMinor > 0n ? m(p.feeMinor, p.currency) : null,
      parts: p.parts.map((x) => ({
        partNo: x.partNo,
        dueOn: x.dueOn,
        amount: m(x.amountMinor + (x.partNo === 1 ? p.feeMinor : 0n), p.currency),
        status: x.status,
      })),
    })),
  };
}

function fail(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof UseCaseError) return reply.code(STATUS[e.code]).send({ error: { code: e.code, message: e.message } });
  throw e;
}

export function registerPortalCollectionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const quoteBody = z.object({ invoices: portalInvoices, payment_method: z.string().min(3).max(255) });
  app.post<{ Params: { token: string } }>('/portal/:token/quote', { schema: { hide: true } }, async (req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return reply.code(403).send({ error: { code: 'link_invalid', message: portal.message } });
    const parsed = quoteBody.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: { code: 'invalid_request', message: 'choose at least one invoice, and enter your card first' } });
    const { t: tenantId, c: clientId } = portal.claims;
    try {
      const choices = await withTenant(deps.ctx.db, tenantId, (tx) => portalChoices(tx, clientId, parsed.data.invoices));
      const q = await quoteCardPayment(deps.ctx, tenantId, { clientId, choices, processorMethodId: parsed.data.payment_method });
      const cur = parseCurrency(q.currency);
      const f = (n: bigint) => format(money(n, cur));
      const s = q.surcharge;
      return {
        quote_id: q.quoteId,
        currency: q.currency,
        amount_minor: q.baseMinor.toString(),
        surcharge_minor: q.surchargeMinor.toString(),
        total_minor: q.totalMinor.toString(),
        amount: f(q.baseMinor),
        surcharge: f(q.surchargeMinor),
        total: f(q.totalMinor),
        surcharge_applies: s?.allowed ?? false,
        surcharge_rate: s?.allowed ? formatBps(s.rateBps) : null,
        // §0.2 / NY GBL § 518: the disclosure the client must see before confirming; New York: the total card price.
        disclosure: s?.allowed ? s.disclosure : null,
        display_total: s?.allowed && s.displayTotal ? format(s.displayTotal) : null,
        no_surcharge_reason: s && !s.allowed ? s.reason : null,
        ach_discount: q.achDiscountMinor > 0n ? f(q.achDiscountMinor) : null,
        card: q.card,
        credit_applied: q.creditApplied.map((a) => ({ invoice_number: a.invoiceNumber, amount: f(a.amountMinor) })),
        covered_by_credit: q.quoteId === null,
      };
    } catch (e) {
      return fail(reply, e);
    }
  });

  const payBody = z.object({ quote_id: z.string().uuid(), accepted_total_minor: z.string().regex(/^\d{1,15}$/) });
  app.post<{ Params: { token: string } }>('/portal/:token/pay-card', { schema: { hide: true } }, async (req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return reply.code(403).send({ error: { code: 'link_invalid', message: portal.message } });
    const parsed = payBody.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: { code: 'invalid_request', message: 'review the payment first, then confirm the total shown' } });
    try {
      const r = await payQuotedCard(deps.ctx, portal.claims.t, {
        clientId: portal.claims.c,
        quoteId: parsed.data.quote_id,
        acceptedTotalMinor: BigInt(parsed.data.accepted_total_minor),
      });
      const status = r.outcome === 'declined' || r.outcome === 'not_sent' ? 402 : 200;
      return reply.code(status).send({
        payment_id: r.paymentId,
        status: r.outcome,
        client_secret: r.clientSecret,
        total: format(money(r.totalMinor, parseCurrency(r.currency))),
        ...(r.message ? { error: { code: r.outcome, message: r.message } } : {}),
      });
    } catch (e) {
      return fail(reply, e);
    }
  });
}
