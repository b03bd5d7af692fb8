// Surcharge settings: the MSP's program (payments-rules.md §1: location, cost of acceptance, the day the
// 30-day notice was filed, what to do where surcharging is not allowed) and each client's location and
// exemption. Setting changes are audited with the old and new values; the program's change is
// engine/surcharge-settings.ts, shared with the staff page /app/settings/surcharge.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { UseCaseError } from '../../engine/context.ts';
import { audit } from '../../engine/audit.ts';
import {
  countryCode as country,
  readSurchargeSettings as readSettings,
  regionCode as region,
  saveSurchargeSettings,
  surchargeSettings as settings,
  surchargeSettingsPatch,
} from '../../engine/surcharge-settings.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody } from './schemas.ts';

export function registerSurchargeRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/settings/surcharge',
    {
      schema: { tags: ['surcharge'], summary: "The MSP's card surcharge program", response: { 200: settings } },
    },
    async (req) => withTenant(deps.ctx.db, callerOf(req).tenantId, readSettings),
  );

  r.put(
    '/settings/surcharge',
    {
      schema: {
        tags: ['surcharge'],
        summary: 'Set the card surcharge program',
        description:
          'Surcharges are only added to credit cards, in allowed jurisdictions (judged on both the MSP and the client), 30 days after notice_filed_on, at min(brand cap, cost_of_acceptance_bps, jurisdiction cap), rounded down. Fields left out keep their value.',
        body: surchargeSettingsPatch,
        response: { 200: settings, 422: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      return withTenant(deps.ctx.db, caller.tenantId, (tx) => saveSurchargeSettings(tx, caller.tenantId, req.body, caller.actor));
    },
  );

  r.put(
    '/clients/:id/surcharge',
    {
      schema: {
        tags: ['surcharge'],
        summary: "A client's billing location (for surcharge rules) and exemption",
        description: 'A client without a country is never surcharged. An exemption needs a reason.',
        params: z.object({ id: z.string().uuid() }),
        body: z.object({
          country: country.nullable().optional(),
          region: region.nullable().optional(),
          exempt: z.boolean().optional(),
          exempt_reason: z.string().min(3).max(300).optional(),
        }),
        response: {
          200: z.object({
            client_id: z.string().uuid(),
            country: z.string().nullable(),
            region: z.string().nullable(),
            exempt: z.boolean(),
            exempt_reason: z.string().nullable(),
          }),
          404: errorBody,
          422: errorBody,
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const b = req.body;
      return withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const c = await tx.selectFrom('clients').select(['id', 'country', 'region']).where('id', '=', req.params.id).forUpdate().executeTakeFirst();
        if (!c) throw new UseCaseError('not_found', `no client ${req.params.id} in this workspace`);
        const exemptBefore = await tx.selectFrom('surcharge_exemptions').select('reason').where('client_id', '=', c.id).executeTakeFirst();
        if (b.exempt === true && !b.exempt_reason && !exemptBefore)
          throw new UseCaseError('invalid', 'give exempt_reason when exempting a client; it is kept in the audit log');
        const location = { country: b.country === undefined ? c.country : b.country, region: b.region === undefined ? c.region : b.region };
        await tx
          .updateTable('clients')
          .set({ ...location, updated_at: new Date() })
          .where('id', '=', c.id)
          .execute();
        if (b.exempt === true) {
          await tx
            .insertInto('surcharge_exemptions')
            .values({ tenant_id: caller.tenantId, client_id: c.id, reason: b.exempt_reason ?? exemptBefore!.reason })
            .onConflict((oc) => oc.column('client_id').doUpdateSet({ reason: b.exempt_reason ?? exemptBefore!.reason }))
            .execute();
        } else if (b.exempt === false) {
          await tx.deleteFrom('surcharge_exemptions').where('client_id', '=', c.id).execute();
        }
        const exemptAfter = await tx.selectFrom('surcharge_exemptions').select('reason').where('client_id', '=', c.id).executeTakeFirst();
        await audit(
          tx,
          caller.tenantId,
          caller.actor,
          'client.surcharge_updated',
          { type: 'client', id: c.id },
          {
            before: { country: c.country, region: c.region, exempt: exemptBefore?.reason ?? null },
            after: { ...location, exempt: exemptAfter?.reason ?? null },
          },
        );
        return {
          client_id: c.id,
          country: location.country,
          region: location.region,
          exempt: exemptAfter !== undefined,
          exempt_reason: exemptAfter?.reason ?? null,
        };
      });
    },
  );
}
