// Surcharge settings: the MSP's program (payments-rules.md §1: location, cost of acceptance, the day the
// 30-day notice was filed, what to do where surcharging is not allowed) and each client's location and
// exemption. Setting changes are audited with the old and new values. Both changes are engine functions
// (engine/surcharge-settings.ts) shared with the staff pages /app/settings/surcharge and
// /app/clients/:id/surcharge.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import {
  clientSurchargePatch,
  readSurchargeSettings as readSettings,
  saveClientSurcharge,
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
        body: clientSurchargePatch,
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
      return withTenant(deps.ctx.db, caller.tenantId, (tx) => saveClientSurcharge(tx, caller.tenantId, req.params.id, req.body, caller.actor));
    },
  );
}
