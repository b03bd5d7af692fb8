// A portal card payment where the surcharge is decided and shown BEFORE the client confirms
// (payments-rules.md §0.2; §1.6 "decide the surcharge after the card is tokenized and show it before the
// customer confirms"). The card's funding is only known once the client has typed it, so the flow is
// Stripe's "finalize payments on the server":
//
//   1. the hosted fields (deferred mode) create a PaymentMethod; card data never reaches Settle;
//   2. quoteCardPayment: Settle reads the method's funding and brand from the processor, applies the
//      client's credit to the chosen invoices, quotes the surcharge (domain/rules/surcharge.ts) and stores
//      exactly what the client is shown (surcharge_quotes);
//   3. payQuotedCard: the client confirms the total it was shown; Settle re-checks the quote, plans the
//      payment with the surcharge as its own part, and creates + confirms the PaymentIntent with that
//      method (idempotency key per payment attempt). The card charged is the card that was quoted.
import { sql } from 'kysely';
import { format, money, parseCurrency, type Money } from '../domain/money.ts';
import type { SurchargeQuote } from '../domain/rules/surcharge.ts';
import { VendorError } from '../connectors/http.ts';
import type { ChargeOutcome, DescribedMethod } from '../connectors/payments/types.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import { openBalanceMinor } from '../db/queries/invoice-balance.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { applyClientCredit, type CreditApplication } from './client-credit.ts';
import { planPayment, type InvoiceChoice } from './plan-payment.ts';
import { ensureProcessorCustomer } from './start-portal-payment.ts';
import { applyChargeOutcome } from './apply-charge-outcome.ts';
import { withCheckoutsClosed } from './close-portal-checkouts.ts';
import { openCheckoutsOn } from './checkout-guard.ts';
import { achDiscount, clientSurchargeFacts, quoteForCard, surchargeProgram } from './surcharge-policy.ts';

const QUOTE_TTL_MS = 30 * 60_000;
/** How long a card fresh from the hosted fields (attached to no customer) can be reviewed: one portal visit. */
const FRESH_METHOD_MS = 60 * 60_000;

export interface CardQuote {
  readonly quoteId: string | null; // null when the client's credit covered everything
  readonly currency: string;
  readonly baseMinor: bigint;
  readonly surchargeMinor: bigint;
  readonly totalMinor: bigint;
  readonly surcharge: SurchargeQuote | null;
  readonly achDiscountMinor: bigint;
  readonly card: { brand: string | null; last4: string; funding: string | null };
  readonly creditApplied: readonly CreditApplication[];
}

async function readCard(ctx: EngineContext, tenantId: string, processorMethodId: string): Promise<{ vendor: string; method: DescribedMethod }> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) throw new UseCaseError('not_configured', 'this workspace has no payment processor connected yet');
  if (!/^[A-Za-z0-9_]{3,255}$/.test(processorMethodId))
    throw new UseCaseError('invalid', 'payment_method must be the id the payment form returned (e.g. pm_…)');
  try {
    const method = await processor.describeMethod(processorMethodId);
    if (method.kind !== 'card') throw new UseCaseError('invalid', 'this step is for cards; bank payments carry no surcharge and are paid directly');
    return { vendor: processor.vendor, method };
  } catch (e) {
    if (e instanceof VendorError && (e.kind === 'not_found' || e.kind === 'invalid'))
      throw new UseCaseError('invalid', 'the card could not be found at the processor; enter it again');
    throw e;
  }
}

/**
 * Only this client's card may be reviewed and charged (issue #6 item 3). Stripe refuses to charge a method
 * attached to another customer, but charges a method attached to none for any customer — and a card typed
 * into the hosted fields is attached to none. So: a method attached to a customer must be this client's;
 * one attached to none must be fresh (made in this portal visit) and not already named by another client's
 * review, the first review claiming it. The advisory lock makes two racing reviews of one method take turns.
 */
async function checkMethodIsClients(tx: Tx, tenantId: string, clientId: string, vendor: string, method: DescribedMethod, now: Date): Promise<void> {
  const refuse = () =>
    new UseCaseError('not_found', 'this card was not entered on this payment page or saved for your account; enter your card in the payment form again');
  if (method.customerId !== null) {
    const client = await tx.selectFrom('clients').select('processor_customer_id').where('id', '=', clientId).executeTakeFirstOrThrow();
    if (client.processor_customer_id !== method.customerId) throw refuse();
    return;
  }
  if (now.getTime() - method.createdAt.getTime() > FRESH_METHOD_MS)
    throw new UseCaseError('expired', 'this card entry is too old to use; enter your card in the payment form again');
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`settle:method:${tenantId}:${vendor}:${method.processorMethodId}`}, 0))`.execute(tx);
  const other = await tx
    .selectFrom('surcharge_quotes')
    .select('client_id')
    .where('processor', '=', vendor)
    .where('processor_method_id', '=', method.processorMethodId)
    .where('client_id', '!=', clientId)
    .limit(1)
    .executeTakeFirst();
  if (other) throw refuse();
}

/** The amounts the client chose, after credit, checked against what each invoice still owes. */
export async function choicesAfterCredit(
  tx: Tx,
  clientId: string,
  choices: readonly InvoiceChoice[],
  credit: readonly CreditApplication[],
): Promise<{ choices: InvoiceChoice[]; currency: string | null }> {
  const out: InvoiceChoice[] = [];
  let currency: string | null = null;
  for (const c of choices) {
    const inv = await tx.selectFrom('invoices').select(['id', 'client_id', 'number', 'currency', 'status']).where('id', '=', c.invoiceId).executeTakeFirst();
    if (!inv || inv.client_id !== clientId) throw new UseCaseError('not_found', 'one or more invoices do not exist for this client');
    currency ??= inv.currency;
    const fromCredit = credit.filter((a) => a.invoiceId === c.invoiceId).reduce((s, a) => s + a.amountMinor, 0n);
    // Only what the credit just paid drops out; anything else (an invoice paid already) stays, so that
    // planPayment refuses it with its own clear error.
    if (c.amountMinor === undefined) {
      if (fromCredit === 0n || (await openBalanceMinor(tx, inv.id)) > 0n) out.push({ invoiceId: c.invoiceId });
      continue;
    }
    const rest = c.amountMinor - fromCredit;
    if (fromCredit === 0n) out.push(c);
    else if (rest > 0n) out.push({ invoiceId: c.invoiceId, amountMinor: rest });
  }
  return { choices: out, currency };
}

export async function quoteCardPayment(
  ctx: EngineContext,
  tenantId: string,
  input: { clientId: string; choices: readonly InvoiceChoice[]; processorMethodId: string },
): Promise<CardQuote> {
  if (input.choices.length === 0) throw new UseCaseError('invalid', 'choose at least one invoice to pay');
  const { vendor, method } = await readCard(ctx, tenantId, input.processorMethodId);
  const card = { brand: method.brand, last4: method.last4, funding: method.funding };
  return withTenant(ctx.db, tenantId, async (tx) => {
    await checkMethodIsClients(tx, tenantId, input.clientId, vendor, method, ctx.now());
    // The client's credit goes first: it is the client's money already (client-credit.ts).
    const credit = await applyClientCredit(tx, tenantId, {
      clientId: input.clientId,
      invoiceIds: input.choices.map((c) => c.invoiceId),
      actor: `client:${input.clientId}`,
      source: 'portal',
    });
    const after = await choicesAfterCredit(tx, input.clientId, input.choices, credit);
    if (after.choices.length === 0) {
      return {
        quoteId: null,
        currency: after.currency ?? 'USD',
        baseMinor: 0n,
        surchargeMinor: 0n,
        totalMinor: 0n,
        surcharge: null,
        achDiscountMinor: 0n,
        card,
        creditApplied: credit,
      };
    }
    // The quote must say exactly what the payment will be, without creating the payment yet.
    const { base, parts } = await dryRunTotal(tx, tenantId, input.clientId, after.choices, vendor);
    const program = await surchargeProgram(tx);
    const facts = await clientSurchargeFacts(tx, input.clientId);
    const q = quoteForCard(program, facts, method, base, ctx.now());
    const surchargeMinor = q.allowed ? q.surcharge.amountMinor : 0n;
    const row = await tx
      .insertInto('surcharge_quotes')
      .values({
        tenant_id: tenantId,
        client_id: input.clientId,
        currency: base.currency,
        base_minor: base.amountMinor,
        surcharge_minor: surchargeMinor,
        rate_bps: q.allowed ? q.rateBps : 0,
        allowed: q.allowed,
        reason: q.allowed ? null : q.reason,
        disclosure: q.allowed ? q.disclosure : null,
        display_total_minor: q.allowed && q.displayTotal ? q.displayTotal.amountMinor : null,
        processor: vendor,
        processor_method_id: method.processorMethodId,
        card_brand: method.brand,
        card_funding: method.funding,
        card_last4: method.last4,
        rules_applied: JSON.stringify(q.rulesApplied),
        choices: JSON.stringify(after.choices.map((c) => ({ invoiceId: c.invoiceId, amountMinor: c.amountMinor?.toString() ?? null }))),
        expires_at: new Date(ctx.now().getTime() + QUOTE_TTL_MS),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(
      tx,
      tenantId,
      `client:${input.clientId}`,
      'surcharge.quoted',
      { type: 'surcharge_quote', id: row.id },
      {
        base_minor: base.amountMinor,
        surcharge_minor: surchargeMinor,
        allowed: q.allowed,
        reason: q.allowed ? null : q.reason,
        funding: method.funding,
        brand: method.brand,
        rules: q.rulesApplied,
      },
    );
    return {
      quoteId: row.id,
      currency: base.currency,
      baseMinor: base.amountMinor,
      surchargeMinor,
      totalMinor: base.amountMinor + surchargeMinor,
      surcharge: q,
      // Per invoice, floored: exactly what a bank payment of these invoices would be granted (ach-discount.ts).
      achDiscountMinor: q.allowed ? 0n : parts.reduce((sum, part) => sum + achDiscount(program, money(part, parseCurrency(base.currency))).amountMinor, 0n),
      card,
      creditApplied: credit,
    };
  });
}

/** Plan the payment inside a savepoint and undo it: the same checks and total the real payment will get. */
async function dryRunTotal(
  tx: Tx,
  tenantId: string,
  clientId: string,
  choices: readonly InvoiceChoice[],
  processor: string,
): Promise<{ base: Money; parts: bigint[] }> {
  await sql`SAVEPOINT settle_quote`.execute(tx);
  try {
    // An open checkout in another tab is canceled when the client confirms (payQuotedCard): quote as if it were.
    const open = await openCheckoutsOn(
      tx,
      choices.map((c) => c.invoiceId),
    );
    const supersedes = [...new Set(open.map((o) => o.paymentId))];
    const plan = await planPayment(tx, tenantId, { clientId, choices, source: 'portal', processor, keyPrefix: 'quote', supersedes });
    const row = await tx.selectFrom('payments').select('planned_allocations').where('id', '=', plan.paymentId).executeTakeFirstOrThrow();
    return { base: money(plan.amountMinor, parseCurrency(plan.currency)), parts: row.planned_allocations.map((a) => BigInt(a.amountMinor)) };
  } finally {
    await sql`ROLLBACK TO SAVEPOINT settle_quote`.execute(tx);
  }
}

export interface QuotedCardPaid {
  readonly paymentId: string;
  readonly outcome: ChargeOutcome['kind'];
  readonly clientSecret: string | null;
  readonly message: string | null;
  readonly totalMinor: bigint;
  readonly currency: string;
}

/** The client confirmed the total it was shown: charge exactly that, with the quoted card. */
export async function payQuotedCard(
  ctx: EngineContext,
  tenantId: string,
  input: { clientId: string; quoteId: string; acceptedTotalMinor: bigint },
): Promise<QuotedCardPaid> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) throw new UseCaseError('not_configured', 'this workspace has no payment processor connected yet');
  // An open checkout of the client-confirmed kind on these invoices (another tab) is canceled at the
  // processor before this charge is planned (close-portal-checkouts.ts); never two confirmable payments.
  const started = await withCheckoutsClosed(ctx, tenantId, 'replaced by a card payment confirmed in the client portal', () =>
    planQuotedCard(ctx, tenantId, input, processor.vendor),
  );
  if (started.again) {
    return {
      paymentId: started.paymentId,
      outcome: started.state === 'succeeded' ? 'succeeded' : 'processing',
      clientSecret: null,
      message: 'this payment was already submitted',
      totalMinor: started.total,
      currency: started.currency,
    };
  }
  const { plan, quote, shown } = started;
  const customerId = await ensureProcessorCustomer(ctx, tenantId, input.clientId);
  const outcome = await processor.chargeOnSession({
    amount: money(shown, parseCurrency(plan.currency)),
    customerId,
    processorMethodId: quote.processor_method_id,
    description:
      quote.surcharge_minor > 0n
        ? `Invoice payment ${plan.paymentId} incl. card surcharge ${format(money(quote.surcharge_minor, parseCurrency(plan.currency)))}`
        : `Invoice payment ${plan.paymentId}`,
    metadata: {
      settle_tenant: tenantId,
      settle_payment: plan.paymentId,
      settle_attempt: plan.attemptId,
      settle_surcharge_minor: quote.surcharge_minor.toString(),
    },
    idempotencyKey: plan.idempotencyKey,
  });
  await applyChargeOutcome(ctx, tenantId, plan.paymentId, plan.attemptId, outcome);
  return {
    paymentId: plan.paymentId,
    outcome: outcome.kind,
    clientSecret: outcome.kind === 'requires_action' ? outcome.clientSecret : null,
    message: outcome.kind === 'declined' ? outcome.message : outcome.kind === 'not_sent' || outcome.kind === 'unknown' ? outcome.reason : null,
    totalMinor: shown,
    currency: plan.currency,
  };
}

/** Re-check the quote the client confirmed and plan its payment (one transaction; refused before any write). */
function planQuotedCard(ctx: EngineContext, tenantId: string, input: { clientId: string; quoteId: string; acceptedTotalMinor: bigint }, vendor: string) {
  const processor = { vendor };
  return withTenant(ctx.db, tenantId, async (tx) => {
    const quote = await tx.selectFrom('surcharge_quotes').selectAll().where('id', '=', input.quoteId).forUpdate().executeTakeFirst();
    if (!quote || quote.client_id !== input.clientId) throw new UseCaseError('not_found', 'this payment review does not exist; start again');
    if (quote.payment_id) {
      // A second click on "Pay": the first one already started this payment.
      const p = await tx
        .selectFrom('payments')
        .select(['id', 'state', 'amount_minor', 'currency'])
        .where('id', '=', quote.payment_id)
        .executeTakeFirstOrThrow();
      if (p.state === 'failed') throw new UseCaseError('conflict', 'this card was declined; enter a card and review the payment again');
      return { again: true as const, paymentId: p.id, state: p.state, total: p.amount_minor, currency: p.currency };
    }
    if (new Date(quote.expires_at).getTime() < ctx.now().getTime())
      throw new UseCaseError('expired', 'this payment review has expired; review the amount again');
    const shown = quote.base_minor + quote.surcharge_minor;
    if (input.acceptedTotalMinor !== shown) {
      const m = (n: bigint) => format(money(n, parseCurrency(quote.currency)));
      throw new UseCaseError('conflict', `the total confirmed (${m(input.acceptedTotalMinor)}) is not the total shown (${m(shown)}); review the amount again`);
    }
    const choices: InvoiceChoice[] = quote.choices.map((c) =>
      c.amountMinor === null ? { invoiceId: c.invoiceId } : { invoiceId: c.invoiceId, amountMinor: BigInt(c.amountMinor) },
    );
    const plan = await planPayment(tx, tenantId, {
      clientId: input.clientId,
      choices,
      source: 'portal',
      processor: processor.vendor,
      keyPrefix: 'portal-card',
    });
    if (plan.amountMinor !== quote.base_minor) {
      // An invoice changed (a PSA update, another payment) since the review: never charge a stale amount.
      throw new UseCaseError('conflict', 'what is owed changed since you reviewed this payment; review the amount again');
    }
    await tx
      .updateTable('payments')
      .set({ amount_minor: shown, surcharge_minor: quote.surcharge_minor, method_kind: 'card', method_brand: quote.card_brand, method_last4: quote.card_last4 })
      .where('id', '=', plan.paymentId)
      .execute();
    await tx.updateTable('surcharge_quotes').set({ payment_id: plan.paymentId }).where('id', '=', quote.id).execute();
    await audit(
      tx,
      tenantId,
      `client:${input.clientId}`,
      'payment.started',
      { type: 'payment', id: plan.paymentId },
      {
        amount_minor: shown,
        surcharge_minor: quote.surcharge_minor,
        currency: plan.currency,
        surcharge_quote_id: quote.id,
      },
    );
    return { again: false as const, plan, quote, shown };
  });
}
