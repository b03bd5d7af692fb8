// The workspace's installment offers (the plans a client may choose alone in the portal) and the plan a
// client makes from one. Staff keep and change offers (audited settings.installment_offer_changed); the
// client's choice becomes a plan through createInstallmentPlan, the function staff use, so a plan from the
// portal is collected, cancelled and shown like any other.
import { format, money, parseCurrency, type Currency } from '../domain/money.ts';
import { MAX_FEE_BPS, offerQuote, offerRefusal, type Offer, type OfferMethod, type OfferQuote } from '../domain/installment-offers.ts';
import { InstallmentError } from '../domain/installments.ts';
import type { Tx } from '../db/tenant.ts';
import { openBalanceMinor } from '../db/queries/invoice-balance.ts';
import type { Selectable } from 'kysely';
import type { InstallmentOffersTable } from '../db/schema.ts';
import { UseCaseError, today } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { createInstallmentPlan, describePlans, inFlightMinor, type InstallmentPlanView } from './installment-plans.ts';

export interface StoredOffer extends Offer {
  readonly id: string;
  readonly enabled: boolean;
}

type OfferRow = Selectable<InstallmentOffersTable>;

function fromRow(r: OfferRow): StoredOffer {
  const currency = parseCurrency(r.currency);
  return {
    id: r.id,
    enabled: r.enabled,
    label: r.label,
    parts: r.parts,
    everyDays: r.every_days,
    currency,
    minOwed: money(r.min_owed_minor, currency),
    feeFlat: money(r.fee_flat_minor, currency),
    feeBps: r.fee_bps,
    methods: r.methods,
  };
}

/** Audit detail of an offer (amounts in minor units, like every other audit entry). */
const auditOf = (o: Offer) => ({
  label: o.label,
  parts: o.parts,
  every_days: o.everyDays,
  currency: o.currency,
  min_owed_minor: o.minOwed.amountMinor,
  fee_flat_minor: o.feeFlat.amountMinor,
  fee_bps: o.feeBps,
  methods: o.methods,
});

export async function listOffers(tx: Tx, opts: { enabledOnly?: boolean } = {}): Promise<StoredOffer[]> {
  let q = tx.selectFrom('installment_offers').selectAll().orderBy('min_owed_minor').orderBy('parts').orderBy('created_at');
  if (opts.enabledOnly) q = q.where('enabled', '=', true);
  return (await q.execute()).map(fromRow);
}

export async function readOffer(tx: Tx, id: string): Promise<StoredOffer | null> {
  const r = await tx.selectFrom('installment_offers').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? fromRow(r) : null;
}

/**
 * The fee an offer may carry (the staff form checks the same through parseOffer; this guards every other
 * caller): a flat amount ≥ 0 in the offer's currency, at most a tenth of the least amount owed, and 0–10 %
 * in whole basis points. The fee is charged with part 1 and booked as plan-fee income (collect-installments.ts).
 */
function checkFee(o: Offer): void {
  const fields: Record<string, string> = {};
  if (o.feeFlat.currency !== o.currency) fields['fee_flat'] = `Enter the flat fee in ${o.currency}, the offer's currency`;
  else if (o.feeFlat.amountMinor < 0n) fields['fee_flat'] = 'Enter the flat fee as an amount of 0 or more (0 for none)';
  else if (o.feeFlat.amountMinor * 10n > o.minOwed.amountMinor) fields['fee_flat'] = 'The flat fee can be at most a tenth of the least amount owed';
  if (!Number.isInteger(o.feeBps) || o.feeBps < 0 || o.feeBps > MAX_FEE_BPS)
    fields['fee_percent'] = `Enter the fee as a percentage from 0 to ${MAX_FEE_BPS / 100}, for example 2.5`;
  if (Object.keys(fields).length) throw new UseCaseError('invalid', Object.values(fields).join('; '), { fields });
}

/** Add an offer (id absent) or change one; audited before → after. */
export async function saveOffer(tx: Tx, tenantId: string, input: { id?: string; offer: Offer; actor: Actor }): Promise<StoredOffer> {
  checkFee(input.offer);
  const o = input.offer;
  const values = {
    label: o.label,
    parts: o.parts,
    every_days: o.everyDays,
    currency: o.currency,
    min_owed_minor: o.minOwed.amountMinor,
    fee_flat_minor: o.feeFlat.amountMinor,
    fee_bps: o.feeBps,
    methods: `{${o.methods.join(',')}}`,
  };
  let before: StoredOffer | null = null;
  let row: OfferRow;
  if (input.id) {
    before = await tx
      .selectFrom('installment_offers')
      .selectAll()
      .where('id', '=', input.id)
      .forUpdate()
      .executeTakeFirst()
      .then((r) => (r ? fromRow(r) : null));
    if (!before) throw new UseCaseError('not_found', `no installment offer ${input.id} in this workspace`);
    row = await tx
      .updateTable('installment_offers')
      .set({ ...values, updated_at: new Date() })
      .where('id', '=', input.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  } else {
    row = await tx
      .insertInto('installment_offers')
      .values({ tenant_id: tenantId, ...values })
      .returningAll()
      .executeTakeFirstOrThrow();
  }
  await audit(
    tx,
    tenantId,
    input.actor,
    'settings.installment_offer_changed',
    { type: 'installment_offer', id: row.id },
    {
      change: before ? 'edited' : 'added',
      before: before ? auditOf(before) : null,
      after: auditOf(o),
    },
  );
  return fromRow(row);
}

/** Offer it to clients again, or stop offering it (plans already made from it go on). */
export async function setOfferEnabled(tx: Tx, tenantId: string, input: { id: string; enabled: boolean; actor: Actor }): Promise<StoredOffer> {
  const row = await tx
    .updateTable('installment_offers')
    .set({ enabled: input.enabled, updated_at: new Date() })
    .where('id', '=', input.id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new UseCaseError('not_found', `no installment offer ${input.id} in this workspace`);
  await audit(
    tx,
    tenantId,
    input.actor,
    'settings.installment_offer_changed',
    { type: 'installment_offer', id: row.id },
    {
      change: input.enabled ? 'enabled' : 'disabled',
    },
  );
  return fromRow(row);
}

export interface InvoiceOffers {
  readonly invoice: { id: string; number: string; currency: Currency; clientId: string };
  readonly owed: bigint;
  /** The offers that apply, each with the plan it would make today. */
  readonly offers: readonly { offer: StoredOffer; quote: OfferQuote }[];
}

/**
 * The enabled offers an invoice of this client qualifies for: open or partly paid, no active plan, the
 * amount still owed (less bank debits in flight) at least the offer's minimum, in the offer's currency.
 */
export async function offersForInvoice(tx: Tx, clientId: string, invoiceId: string, now: Date): Promise<InvoiceOffers | null> {
  const inv = await tx
    .selectFrom('invoices')
    .select(['id', 'number', 'currency', 'status', 'client_id'])
    .where('id', '=', invoiceId)
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  if (!inv) return null;
  const currency = parseCurrency(inv.currency);
  const base = { invoice: { id: inv.id, number: inv.number, currency, clientId: inv.client_id } };
  if (inv.status !== 'open' && inv.status !== 'partially_paid') return { ...base, owed: 0n, offers: [] };
  const active = await tx.selectFrom('installment_plans').select('id').where('invoice_id', '=', inv.id).where('status', '=', 'active').executeTakeFirst();
  const owed = (await openBalanceMinor(tx, inv.id)) - (await inFlightMinor(tx, inv.id));
  if (active || owed <= 0n) return { ...base, owed, offers: [] };
  const offers = [];
  for (const offer of await listOffers(tx, { enabledOnly: true })) {
    if (offerRefusal(offer, money(owed, currency))) continue;
    try {
      offers.push({ offer, quote: offerQuote(offer, money(owed, currency), today(now)) });
    } catch (e) {
      if (!(e instanceof InstallmentError)) throw e;
    }
  }
  return { ...base, owed, offers };
}

/** Invoice ids (of those given) that at least one enabled offer applies to: the portal's "Pay in parts" links. */
export async function invoicesWithOffers(tx: Tx, clientId: string, invoiceIds: readonly string[], now: Date): Promise<Set<string>> {
  const out = new Set<string>();
  if (invoiceIds.length === 0) return out;
  const any = await tx.selectFrom('installment_offers').select('id').where('enabled', '=', true).executeTakeFirst();
  if (!any) return out;
  for (const id of invoiceIds) {
    const r = await offersForInvoice(tx, clientId, id, now);
    if (r && r.offers.length > 0) out.add(id);
  }
  return out;
}

/**
 * The client chooses an offer for an invoice and a saved method: the plan is made through the same
 * function staff use. `requestKey` comes from the form the client saw; the same key again (a double click,
 * a reload) returns the plan it made, and a second tab finds the invoice's active plan instead of making
 * another (one active plan per invoice). `agreedTotalMinor` is the total the client saw: if the invoice
 * changed since, nothing is made and the client sees the new figures.
 */
export async function chooseOffer(
  tx: Tx,
  tenantId: string,
  input: { clientId: string; invoiceId: string; offerId: string; paymentMethodId: string; requestKey: string; agreedTotalMinor: bigint; now: Date },
): Promise<{ plan: InstallmentPlanView; created: boolean }> {
  const again = await tx.selectFrom('installment_plans').select('id').where('request_key', '=', input.requestKey).executeTakeFirst();
  if (again) return { plan: (await describePlans(tx, { planId: again.id }))[0]!, created: false };
  // One request at a time per invoice: the second of two tabs waits here, then finds the first one's plan.
  await tx.selectFrom('invoices').select('id').where('id', '=', input.invoiceId).where('client_id', '=', input.clientId).forNoKeyUpdate().executeTakeFirst();
  const existing = await tx
    .selectFrom('installment_plans')
    .select(['id', 'client_id'])
    .where('invoice_id', '=', input.invoiceId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  if (existing && existing.client_id === input.clientId) return { plan: (await describePlans(tx, { planId: existing.id }))[0]!, created: false };
  const found = await offersForInvoice(tx, input.clientId, input.invoiceId, input.now);
  if (!found) throw new UseCaseError('not_found', 'this invoice is not one of yours');
  const choice = found.offers.find((o) => o.offer.id === input.offerId);
  if (!choice) throw new UseCaseError('conflict', `this plan is no longer offered for invoice ${found.invoice.number}`);
  const { offer, quote } = choice;
  if (quote.total.amountMinor !== input.agreedTotalMinor)
    throw new UseCaseError(
      'conflict',
      `the amount owed on invoice ${found.invoice.number} changed to ${format(quote.owed)}; check the new parts and agree again`,
    );
  const method = await tx
    .selectFrom('payment_methods')
    .select(['id', 'kind'])
    .where('id', '=', input.paymentMethodId)
    .where('client_id', '=', input.clientId)
    .where('removed_at', 'is', null) // removed by the client in the portal (engine/portal-methods.ts)
    .executeTakeFirst();
  if (!method || !offer.methods.includes(method.kind as OfferMethod))
    throw new UseCaseError('invalid', 'choose one of your saved payment methods that this plan accepts');
  const plan = await createInstallmentPlan(tx, tenantId, {
    invoiceId: input.invoiceId,
    schedule: { kind: 'every', parts: offer.parts, firstDueOn: today(input.now), everyDays: offer.everyDays },
    paymentMethodId: method.id,
    actor: `client:${input.clientId}`,
    now: input.now,
    offer: { id: offer.id, feeMinor: quote.fee.amountMinor, requestKey: input.requestKey },
  });
  // The engine splits what it finds owed; the client agreed to exactly these parts.
  const same = plan.parts.length === quote.parts.length && plan.parts.every((p, i) => p.amountMinor === quote.parts[i]!.amount.amountMinor);
  if (!same) throw new UseCaseError('conflict', `the amount owed on invoice ${found.invoice.number} changed; check the new parts and agree again`);
  return { plan, created: true };
}
