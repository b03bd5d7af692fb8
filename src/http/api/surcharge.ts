// Surcharge settings: the MSP's program (payments-rules.md §1: location, cost of acceptance, the day the
// 30-day notice was filed, what to do where surcharging is not allowed) and each client's location and
// exemption. Setting changes are audited with the old and new values.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { UseCaseError } from '../../engine/context.ts';
import { audit } from '../../engine/audit.ts';
import { isoDate } from '../../domain/rules/calendar-date.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody } from './schemas.ts';

const country = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'an ISO 3166-1 alpha-2 country code, e.g. US or CA')
  .transform((s) => s.toUpperCase());
const region = z
  .string()
  .regex(/^[A-Za-z0-9]{1,3}$/, 'a state or province code, e.g. CO, NY, QC')
  .transform((s) => s.toUpperCase());

const settings = z.object({
  enabled: z.boolean(),
  msp_country: z.string(),
  msp_region: z.string().nullable(),
  cost_of_acceptance_bps: z.number().int(),
  notice_filed_on: z.string().nullable(),
  alternative: z.enum(['absorb', 'ach_discount']),
  ach_discount_bps: z.number().int(),
});

async function readSettings(tx: Tx): Promise<z.infer<typeof settings>> {
  const s = await tx.selectFrom('surcharge_settings').selectAll().executeTakeFirst();
  return {
    enabled: s?.enabled ?? false,
    msp_country: s?.msp_country ?? 'US',
    msp_region: s?.msp_region ?? null,
    cost_of_acceptance_bps: s?.cost_of_acceptance_bps ?? 0,
    notice_filed_on: s?.notice_filed_on ?? null,
    alternative: s?.alternative ?? 'absorb',
    ach_discount_bps: s?.ach_discount_bps ?? 0,
  };
}

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
        body: z.object({
          enabled: z.boolean().optional(),
          msp_country: country.optional(),
          msp_region: region.nullable().optional(),
          cost_of_acceptance_bps: z.number().int().min(0).max(10_000).optional(),
          notice_filed_on: z.string().nullable().optional(),
          alternative: z.enum(['absorb', 'ach_discount']).optional(),
          ach_discount_bps: z.number().int().min(0).max(10_000).optional(),
        }),
        response: { 200: settings, 422: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const b = req.body;
      if (b.notice_filed_on) {
        try {
          isoDate(b.notice_filed_on);
        } catch {
          throw new UseCaseError('invalid', `notice_filed_on "${b.notice_filed_on}" is not a date; send YYYY-MM-DD`);
        }
      }
      return withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const before = await readSettings(tx);
        const after = { ...before, ...Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) } as z.infer<typeof settings>;
        if (after.enabled && after.cost_of_acceptance_bps <= 0) {
          throw new UseCaseError(
            'invalid',
            'set cost_of_acceptance_bps (what accepting credit cards costs you, in basis points) before enabling surcharges: a surcharge may never exceed it',
          );
        }
        await tx
          .insertInto('surcharge_settings')
          .values({ tenant_id: caller.tenantId, ...after, updated_at: new Date() })
          .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ ...after, updated_at: new Date() }))
          .execute();
        await audit(tx, caller.tenantId, caller.actor, 'settings.surcharge_updated', { type: 'tenant', id: caller.tenantId }, { before, after });
        return readSettings(tx);
      });
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
