// Client portal, bank ACH by file (payments-rules.md §2.2, §2.7): the client authorizes debits from a bank
// account (the mandate text, time and IP are stored; the account number is sealed at once and never shown
// again, only its last four digits), and pays invoices from an authorized account. There is no processor
// here to host the account fields: the MSP's own bank is the rail, so the number comes to Settle over TLS
// and is stored unreadable.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { portalBranding } from '../../engine/branding.ts';
import { withTenant } from '../../db/tenant.ts';
import { UseCaseError } from '../../engine/context.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { enrollAchBankAccount } from '../../engine/ach-enroll-bank-account.ts';
import { originateAchDebit } from '../../engine/ach-originate-debit.ts';
import { withCheckoutsClosed } from '../../engine/close-portal-checkouts.ts';
import { mandateTemplateSha256, previewMandate } from '../../engine/ach-mandate.ts';
import { hasBankAch, portalNav } from './nav.ts';
import { payableByBank } from './bank-ach-invoices.ts';
import { workspaceClock } from '../../db/queries/ar-metrics.ts';
import { portalAssets, refusePortal, renderPortal } from './view.ts';
import { STATUS } from '../errors.ts';
import type { HttpDeps } from '../deps.ts';
import { frameAncestorsOf, setPortalPolicy } from '../security-headers.ts';
import { openPortal } from './pages.ts';

const enrollBody = z.object({
  holder_name: z.string().min(1).max(100),
  holder_kind: z.enum(['business', 'personal']),
  routing_number: z.string().min(1).max(20),
  account_number: z.string().min(1).max(30),
  account_type: z.enum(['checking', 'savings']),
  agree: z.literal(true),
  mandate_sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const payBody = z.object({
  bank_account_id: z.string().uuid(),
  invoices: z
    .array(z.object({ invoice_id: z.string().uuid(), amount_minor: z.string().regex(/^\d+$/).optional() }))
    .min(1)
    .max(50),
  same_day: z.boolean().optional(),
});

function fail(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof UseCaseError) return reply.code(STATUS[e.code]).send({ error: { code: e.code, message: e.message } });
  throw e;
}

const FIELD_WORDS: Readonly<Record<string, string>> = {
  holder_name: 'Enter the account holder name as the bank knows it.',
  holder_kind: 'Choose whose account it is.',
  routing_number: 'Enter the 9-digit routing number.',
  account_number: 'Enter the account number.',
  account_type: 'Choose checking or savings.',
  agree: 'Tick "I agree to this authorization" to authorize debits.',
  mandate_sha256: 'This page is out of date. Reload it and try again.',
  bank_account_id: 'Choose one of your authorized bank accounts.',
  invoices: 'Choose at least one invoice to pay.',
};

/** Each wrong field once, in plain words (never a schema message). */
function issues(err: z.ZodError): string {
  const fields = [...new Set(err.issues.map((i) => String(i.path[0] ?? '')))];
  return fields.map((f) => FIELD_WORDS[f] ?? 'Something in the form is missing. Reload the page and try again.').join(' ');
}

export function registerBankAchPortalRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Params: { token: string }; Querystring: { authorized?: string } }>(
    '/portal/:token/bank-account',
    { schema: { hide: true } },
    async (req, reply) => {
      const portal = await openPortal(deps, req.params.token);
      if (!portal.ok) return refusePortal(reply, 'Bank account', portal.message);
      const { t: tenantId, c: clientId } = portal.claims;
      const view = await withTenant(deps.ctx.db, tenantId, async (tx) => ({
        tenant: await tx.selectFrom('tenants').select(['name', 'settings']).where('id', '=', tenantId).executeTakeFirstOrThrow(),
        bankAch: await hasBankAch(tx),
        open: await payableByBank(tx, clientId),
        today: (await workspaceClock(tx, tenantId, deps.ctx.now())).today,
        branding: await portalBranding(tx, tenantId),
        client: await tx.selectFrom('clients').select('name').where('id', '=', clientId).executeTakeFirst(),
        accounts: await tx
          .selectFrom('ach_bank_accounts')
          .select(['id', 'account_last4', 'sec_code', 'status', 'validation'])
          .where('client_id', '=', clientId)
          .orderBy('created_at', 'desc')
          .execute(),
      }));
      if (!view.client) return refusePortal(reply, 'Bank account', 'This link is not valid.');
      if (!view.bankAch)
        return refusePortal(
          reply,
          'Bank account',
          `${view.tenant.name} does not take payments straight from a bank account here. Please pay from your invoices page.`,
        );
      // No processor here: the account number is typed into Settle's own page (NACHA debits), so no hosted fields.
      setPortalPolicy(req, reply, null, frameAncestorsOf(view.tenant.settings));
      return renderPortal(reply, 'bank-account', {
        title: 'Bank account',
        brand: view.tenant.name,
        branding: view.branding,
        clientName: view.client.name,
        nav: portalNav(req.params.token, 'bank', { bankAch: true }),
        authorized: /^\d{4}$/.test(req.query.authorized ?? '') ? req.query.authorized : null,
        accounts: view.accounts.map((a) => ({ ...a, payable: a.status === 'active' })),
        open: view.open,
        mandate: previewMandate(view.tenant.name, view.client.name, view.today),
        mandateSha256: mandateTemplateSha256(),
        scripts: [{ src: portalAssets.bankAccount }],
      });
    },
  );

  app.post<{ Params: { token: string } }>('/portal/:token/bank-account', { schema: { hide: true } }, async (req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return reply.code(403).send({ error: { code: 'link_invalid', message: portal.message } });
    const parsed = enrollBody.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: { code: 'invalid_request', message: issues(parsed.error) } });
    const b = parsed.data;
    const { t: tenantId, c: clientId } = portal.claims;
    try {
      const r = await enrollAchBankAccount(deps.ctx, tenantId, {
        clientId,
        holderName: b.holder_name,
        holderKind: b.holder_kind,
        routingNumber: b.routing_number,
        accountNumber: b.account_number,
        accountType: b.account_type,
        mandate: {
          channel: 'portal',
          acceptedBy: `client:${clientId}`,
          ip: req.ip,
          userAgent: req.headers['user-agent'] ?? null,
          templateSha256: b.mandate_sha256,
        },
      });
      return reply
        .code(201)
        .send({ bank_account_id: r.bankAccountId, sec_code: r.secCode, validation: r.validation, last4: r.last4, mandate_text: r.mandateText });
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.post<{ Params: { token: string } }>('/portal/:token/pay-by-bank', { schema: { hide: true } }, async (req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return reply.code(403).send({ error: { code: 'link_invalid', message: portal.message } });
    const parsed = payBody.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: { code: 'invalid_request', message: issues(parsed.error) } });
    const { t: tenantId, c: clientId } = portal.claims;
    try {
      const owner = await withTenant(deps.ctx.db, tenantId, (tx) =>
        tx.selectFrom('ach_bank_accounts').select('client_id').where('id', '=', parsed.data.bank_account_id).executeTakeFirst(),
      );
      // Another client's account is reported exactly like a missing one.
      if (!owner || owner.client_id !== clientId)
        throw new UseCaseError('not_found', `bank account ${parsed.data.bank_account_id} is not authorized for debits; authorize it first`);
      // A card checkout the client opened on these invoices (another tab, a step back) is canceled at the
      // processor first, then the debit is planned: one open payment per invoice, never a 409 for the client.
      const r = await withCheckoutsClosed(deps.ctx, tenantId, 'replaced by a bank debit the client authorized in the portal', () =>
        originateAchDebit(deps.ctx, tenantId, {
          bankAccountId: parsed.data.bank_account_id,
          choices: parsed.data.invoices.map((i) =>
            i.amount_minor === undefined ? { invoiceId: i.invoice_id } : { invoiceId: i.invoice_id, amountMinor: BigInt(i.amount_minor) },
          ),
          actor: `client:${clientId}`,
          source: 'portal',
          ...(parsed.data.same_day ? { sameDay: true } : {}),
        }),
      );
      return reply
        .code(201)
        .send({ payment_id: r.paymentId, state: r.state, amount_minor: r.amountMinor.toString(), amount: format(money(r.amountMinor, parseCurrency('USD'))) });
    } catch (e) {
      return fail(reply, e);
    }
  });
}
