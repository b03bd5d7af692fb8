// A portal link that expired offers to e-mail a fresh one (issue #12):
//   POST /portal/:token/renew   → a new link e-mailed to the client's billing contact (engine/portal-links.ts)
// Only an expired link that Settle itself signed can ask (the signature still proves which client it was
// for), so nobody can name an address or a client: there is no account to enumerate. The answer is the same
// whether or not an e-mail went (no billing address, the limit reached), and a client gets at most
// RENEWALS_PER_DAY of these a day (on top of the portal's per-link rate limit, http/rate-limits.ts).
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { portalSecretOf } from '../../db/portal-secret.ts';
import { boxOf, UseCaseError } from '../../engine/context.ts';
import { emailPortalLink } from '../../engine/portal-links.ts';
import { peekToken, verifyToken } from '../signed-token.ts';
import type { HttpDeps } from '../deps.ts';
import type { PortalClaims } from './links.ts';
import { portalAssets, renderPortal } from './view.ts';

export const RENEWALS_PER_DAY = 3;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SENT =
  'If this link was for your account, a new one is on its way to the billing e-mail address your IT provider has on file. It may take a few minutes to arrive.';

/** The claims of a link Settle signed that has expired (null for any other link). */
export async function expiredClaims(deps: HttpDeps, token: string): Promise<PortalClaims | null> {
  const peek = peekToken<PortalClaims>(token);
  if (!peek || typeof peek.t !== 'string' || !UUID.test(peek.t) || typeof peek.c !== 'string' || !UUID.test(peek.c)) return null;
  const secret = await portalSecretOf(deps.ctx.db, boxOf(deps.ctx), peek.t);
  if (!secret) return null;
  const check = verifyToken<PortalClaims>(token, secret);
  return !check.ok && check.reason === 'expired' ? peek : null;
}

/** The refused-link page, with "E-mail me a new link" when the link only expired. */
export async function refuseLink(deps: HttpDeps, reply: FastifyReply, token: string, title: string, message: string): Promise<FastifyReply> {
  const expired = await expiredClaims(deps, token);
  return renderPortal(
    reply,
    'refused',
    { title, message, renewHref: expired ? `/portal/${token}/renew` : null, scripts: expired ? [{ src: portalAssets.account }] : [] },
    { status: 403 },
  );
}

export function registerRenewLinkRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.post<{ Params: { token: string } }>('/portal/:token/renew', { schema: { hide: true } }, async (req, reply) => {
    const claims = await expiredClaims(deps, req.params.token);
    if (!claims)
      return reply
        .code(403)
        .send({ error: { code: 'link_invalid', message: 'This link cannot ask for a new one. Please use the link from your most recent email.' } });
    await withTenant(deps.ctx.db, claims.t, async (tx) => {
      // One renewal at a time per client, so the daily count below cannot be raced past.
      const client = await tx.selectFrom('clients').select('id').where('id', '=', claims.c).forUpdate().executeTakeFirst();
      if (!client) return;
      const since = new Date(deps.ctx.now().getTime() - 24 * 3600_000);
      const recent = await tx
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('client_id', '=', claims.c)
        .where('kind', '=', 'portal_link')
        .where('idempotency_key', 'like', `portal-link:${claims.c}:renew-%`)
        .where('created_at', '>', since)
        .executeTakeFirstOrThrow();
      if (Number(recent.n) >= RENEWALS_PER_DAY) return;
      try {
        await emailPortalLink(deps.ctx, tx, claims.t, claims.c, deps.portalLinkTtlSec, `client:${claims.c}`, `renew-${crypto.randomUUID()}`);
      } catch (e) {
        // No billing address: nothing to send to, and the answer must not say so (see above).
        if (!(e instanceof UseCaseError)) throw e;
      }
    });
    return { message: SENT };
  });
}
