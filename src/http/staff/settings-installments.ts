// Settings → Installment offers: the plans a client may choose alone in the portal ("3 monthly payments for
// invoices of $1,000 or more"). Everyone signed in sees them; an owner adds, edits, stops and restarts
// offering them (engine/installment-offers.ts, audited settings.installment_offer_changed). Plans already
// made from an offer are not touched by a change: they are on /app/autopay/installments.
//   GET  /app/settings/installments               the offers (viewer)
//   GET  /app/settings/installments/new           the form (owner)
//   GET  /app/settings/installments/:id           the form for one offer (owner)
//   POST /app/settings/installments               add (owner)
//   POST /app/settings/installments/:id           change (owner)
//   POST /app/settings/installments/:id/enabled   offer it again / stop offering it (owner)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { bpsText, OFFER_EVERY_DAYS, OFFER_PARTS, OfferInputError, parseOffer } from '../../domain/installment-offers.ts';
import { format, isCurrency, SUPPORTED_CURRENCIES, toDecimalString } from '../../domain/money.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { UseCaseError } from '../../engine/context.ts';
import { listOffers, readOffer, saveOffer, setOfferEnabled, type StoredOffer } from '../../engine/installment-offers.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { notFound } from './payments.ts';
import { renderStaff } from './view.ts';

type Form = Record<string, string | string[] | undefined>;
type Err = { field?: string; message: string };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DONE: Record<string, string> = {
  added: 'Offer added. Clients see it on invoices it applies to.',
  saved: 'Offer saved.',
  enabled: 'Clients are offered this plan again.',
  disabled: 'Clients are no longer offered this plan. Plans already made from it go on.',
};
const METHOD_TEXT = { card: 'card', us_bank_account: 'bank account' } as const;

const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route reached without a caller (authorize.ts runs first)');
  return req.caller;
};

/** "$5.00 + 2.5 % with part 1": the fee as staff read it (charged once, with the first part). */
function feeText(o: StoredOffer): string {
  if (o.feeFlat.amountMinor === 0n && o.feeBps === 0) return 'none';
  const parts = [o.feeFlat.amountMinor > 0n ? format(o.feeFlat) : null, o.feeBps > 0 ? `${bpsText(o.feeBps)} % of the amount split` : null];
  return `${parts.filter(Boolean).join(' + ')}, with part 1`;
}

/** One offer as the list and the form show it. */
function shown(o: StoredOffer) {
  return {
    id: o.id,
    enabled: o.enabled,
    label: o.label,
    rule: `${o.parts} parts, ${o.everyDays} days apart, first part the day the client agrees`,
    applies: `invoices in ${o.currency} still owing ${format(o.minOwed)} or more`,
    fee: feeText(o),
    methods: o.methods.map((m) => METHOD_TEXT[m]).join(' or '),
  };
}

export function registerInstallmentOfferRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  async function list(req: FastifyRequest, reply: FastifyReply, notice: string | null, errors: Err[] = [], status = 200) {
    const caller = callerOf(req);
    const offers = await withTenant(db, caller.tenantId, (tx) => listOffers(tx));
    return renderStaff(
      req,
      reply,
      'settings-installments',
      {
        title: 'Installment offers',
        offers: offers.map(shown),
        canEdit: roleAtLeast(caller.role, 'owner'),
        notice: notice ? { text: notice, kind: 'ok' } : null,
        errors,
      },
      { status },
    );
  }

  function form(req: FastifyRequest, reply: FastifyReply, id: string | null, v: Form, errors: Err[]) {
    const one = (k: string) => {
      const x = v[k];
      return Array.isArray(x) ? (x[0] ?? '') : (x ?? '');
    };
    const methods = v['methods'] === undefined ? [] : Array.isArray(v['methods']) ? v['methods'] : [v['methods']];
    return renderStaff(
      req,
      reply,
      'settings-installment-offer',
      {
        title: id ? 'Change an installment offer' : 'Add an installment offer',
        narrow: true,
        id,
        v: {
          label: one('label'),
          parts: one('parts'),
          every_days: one('every_days'),
          min_owed: one('min_owed'),
          fee_flat: one('fee_flat') || '0',
          fee_percent: one('fee_percent') || '0',
          currency: one('currency') || 'USD',
          methods,
        },
        currencies: SUPPORTED_CURRENCIES,
        limits: { parts: OFFER_PARTS, every: OFFER_EVERY_DAYS },
        errors,
      },
      { status: errors.length ? 422 : 200 },
    );
  }

  app.get<{ Querystring: Form }>('/app/settings/installments', { schema: { hide: true } }, (req, reply) => {
    const done = req.query.done;
    return list(req, reply, typeof done === 'string' ? (DONE[done] ?? null) : null);
  });

  app.get('/app/settings/installments/new', { schema: { hide: true } }, (req, reply) =>
    form(req, reply, null, { parts: '3', every_days: '30', methods: ['card', 'us_bank_account'] }, []),
  );

  app.get<{ Params: { id: string } }>('/app/settings/installments/:id', { schema: { hide: true } }, async (req, reply) => {
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const o = await withTenant(db, callerOf(req).tenantId, (tx) => readOffer(tx, req.params.id));
    if (!o) return notFound(req, reply);
    return form(
      req,
      reply,
      o.id,
      {
        label: o.label,
        parts: String(o.parts),
        every_days: String(o.everyDays),
        min_owed: toDecimalString(o.minOwed),
        fee_flat: toDecimalString(o.feeFlat),
        fee_percent: bpsText(o.feeBps),
        currency: o.currency,
        methods: [...o.methods],
      },
      [],
    );
  });

  async function save(req: FastifyRequest<{ Body: Form }>, reply: FastifyReply, id: string | null) {
    const caller = callerOf(req);
    const b = req.body ?? {};
    const currency = typeof b.currency === 'string' && isCurrency(b.currency) ? b.currency : null;
    if (!currency) return form(req, reply, id, b, [{ field: 'currency', message: 'Choose the currency of the invoices the offer is for' }]);
    try {
      const offer = parseOffer(b, currency);
      await withTenant(db, caller.tenantId, (tx) => saveOffer(tx, caller.tenantId, { ...(id ? { id } : {}), offer, actor: caller.actor }));
    } catch (e) {
      if (e instanceof OfferInputError)
        return form(
          req,
          reply,
          id,
          b,
          Object.entries(e.fields).map(([field, message]) => ({ field, message })),
        );
      if (!(e instanceof UseCaseError)) throw e;
      if (e.code === 'not_found') return notFound(req, reply);
      return form(req, reply, id, b, [{ message: e.message }]);
    }
    return reply.redirect(`/app/settings/installments?done=${id ? 'saved' : 'added'}`, 303);
  }

  app.post<{ Body: Form }>('/app/settings/installments', { schema: { hide: true } }, (req, reply) => save(req, reply, null));
  app.post<{ Params: { id: string }; Body: Form }>('/app/settings/installments/:id', { schema: { hide: true } }, (req, reply) =>
    UUID.test(req.params.id) ? save(req, reply, req.params.id) : notFound(req, reply),
  );

  app.post<{ Params: { id: string }; Body: Form }>('/app/settings/installments/:id/enabled', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const want = req.body?.enabled;
    if (want !== 'true' && want !== 'false') return list(req, reply, null, [{ message: 'Choose whether to offer the plan or stop offering it' }], 422);
    try {
      await withTenant(db, caller.tenantId, (tx) => setOfferEnabled(tx, caller.tenantId, { id: req.params.id, enabled: want === 'true', actor: caller.actor }));
    } catch (e) {
      if (e instanceof UseCaseError && e.code === 'not_found') return notFound(req, reply);
      throw e;
    }
    return reply.redirect(`/app/settings/installments?done=${want === 'true' ? 'enabled' : 'disabled'}`, 303);
  });
}
