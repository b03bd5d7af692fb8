// Which sites may show the client portal inside a frame (an MSP embedding "Pay your invoices" in its own
// client area). Staff pages are never framed; the portal only by the https origins listed here, which become
// the portal's Content-Security-Policy frame-ancestors (http/security-headers.ts). Empty (the default): none.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { audit } from '../../engine/audit.ts';
import type { HttpDeps } from '../deps.ts';
import { FRAME_ANCESTOR, frameAncestorsOf } from '../security-headers.ts';
import { callerOf } from './caller.ts';
import { errorBody } from './schemas.ts';

const setting = z.object({
  frame_ancestors: z
    .array(
      z
        .string()
        .max(253)
        .transform((o) => o.toLowerCase())
        .refine((o) => FRAME_ANCESTOR.test(o), 'each entry is an https origin such as https://clients.example-msp.com (no path, no trailing slash)'),
    )
    .max(20),
});

export function registerPortalFramingRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/settings/portal-framing',
    { schema: { tags: ['settings'], summary: 'The sites allowed to show the client portal in a frame', response: { 200: setting } } },
    async (req) => {
      const caller = callerOf(req);
      return withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const t = await tx.selectFrom('tenants').select('settings').where('id', '=', caller.tenantId).executeTakeFirstOrThrow();
        return { frame_ancestors: frameAncestorsOf(t.settings) };
      });
    },
  );
  r.put(
    '/settings/portal-framing',
    {
      schema: {
        tags: ['settings'],
        summary: 'Set the sites allowed to show the client portal in a frame',
        description: 'Up to 20 https origins (scheme, host, optional port; *.example.com allowed). An empty list (the default) forbids framing.',
        body: setting,
        response: { 200: setting, 400: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const list = [...new Set(req.body.frame_ancestors)];
      return withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const before = await tx.selectFrom('tenants').select('settings').where('id', '=', caller.tenantId).executeTakeFirstOrThrow();
        await tx
          .updateTable('tenants')
          .set({ settings: sql`settings || jsonb_build_object('portal_frame_ancestors', ${JSON.stringify(list)}::jsonb)` })
          .where('id', '=', caller.tenantId)
          .execute();
        await audit(
          tx,
          caller.tenantId,
          caller.actor,
          'settings.portal_framing_changed',
          { type: 'tenant', id: caller.tenantId },
          {
            before: frameAncestorsOf(before.settings),
            after: list,
          },
        );
        return { frame_ancestors: list };
      });
    },
  );
}
