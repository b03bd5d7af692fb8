// The MSP's card surcharge program as a setting (payments-rules.md §1): read it, change it. One function for
// every door — PUT /api/v1/settings/surcharge and the staff page /app/settings/surcharge — so both validate the
// same way and write the same audit entry (settings.surcharge_updated, before → after). The rate a card is
// charged is never stored: quoteSurcharge works it out per payment as min(brand cap, cost of acceptance,
// jurisdiction caps of MSP and client), so a cost above a cap is legal (the cap binds) and is kept as given.
import { z } from 'zod';
import type { Tx } from '../db/tenant.ts';
import { isoDate } from '../domain/rules/calendar-date.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';

export const countryCode = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'an ISO 3166-1 alpha-2 country code, e.g. US or CA')
  .transform((s) => s.toUpperCase());
export const regionCode = z
  .string()
  .regex(/^[A-Za-z0-9]{1,3}$/, 'a state or province code, e.g. CO, NY, QC')
  .transform((s) => s.toUpperCase());

/** Basis points a cost of acceptance or ACH discount may be (100 % is the technical ceiling, not a legal one). */
export const MAX_BPS = 10_000;

export const surchargeSettings = z.object({
  enabled: z.boolean(),
  msp_country: z.string(),
  msp_region: z.string().nullable(),
  cost_of_acceptance_bps: z.number().int(),
  notice_filed_on: z.string().nullable(),
  alternative: z.enum(['absorb', 'ach_discount']),
  ach_discount_bps: z.number().int(),
});
export type SurchargeSettings = z.infer<typeof surchargeSettings>;

/** A change: fields left out keep their value. */
export const surchargeSettingsPatch = z.object({
  enabled: z.boolean().optional(),
  msp_country: countryCode.optional(),
  msp_region: regionCode.nullable().optional(),
  cost_of_acceptance_bps: z.number().int().min(0).max(MAX_BPS).optional(),
  notice_filed_on: z.string().nullable().optional(),
  alternative: z.enum(['absorb', 'ach_discount']).optional(),
  ach_discount_bps: z.number().int().min(0).max(MAX_BPS).optional(),
});
export type SurchargeSettingsPatch = z.input<typeof surchargeSettingsPatch>;

export async function readSurchargeSettings(tx: Tx): Promise<SurchargeSettings> {
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

/**
 * Apply a change (already parsed by surchargeSettingsPatch) in `tx`: refused with a UseCaseError('invalid')
 * — nothing written — when the notice date is not a date or the program would be on without a cost of
 * acceptance (a surcharge may never exceed it). Audited with the whole program before and after.
 */
export async function saveSurchargeSettings(
  tx: Tx,
  tenantId: string,
  patch: z.output<typeof surchargeSettingsPatch>,
  actor: Actor,
): Promise<SurchargeSettings> {
  if (patch.notice_filed_on) {
    try {
      isoDate(patch.notice_filed_on);
    } catch {
      throw new UseCaseError('invalid', `notice_filed_on "${patch.notice_filed_on}" is not a date; send YYYY-MM-DD`);
    }
  }
  const before = await readSurchargeSettings(tx);
  const after = { ...before, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as SurchargeSettings;
  if (after.enabled && after.cost_of_acceptance_bps <= 0) {
    throw new UseCaseError(
      'invalid',
      'set cost_of_acceptance_bps (what accepting credit cards costs you, in basis points) before enabling surcharges: a surcharge may never exceed it',
    );
  }
  await tx
    .insertInto('surcharge_settings')
    .values({ tenant_id: tenantId, ...after, updated_at: new Date() })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ ...after, updated_at: new Date() }))
    .execute();
  await audit(tx, tenantId, actor, 'settings.surcharge_updated', { type: 'tenant', id: tenantId }, { before, after });
  return readSurchargeSettings(tx);
}

/** A client's billing location (the surcharge rules of its place apply too) and exemption. */
export const clientSurchargePatch = z.object({
  country: countryCode.nullable().optional(),
  region: regionCode.nullable().optional(),
  exempt: z.boolean().optional(),
  exempt_reason: z.string().min(3).max(300).optional(),
});

export interface ClientSurcharge {
  readonly client_id: string;
  readonly country: string | null;
  readonly region: string | null;
  readonly exempt: boolean;
  readonly exempt_reason: string | null;
}

export async function readClientSurcharge(tx: Tx, clientId: string): Promise<(ClientSurcharge & { name: string }) | undefined> {
  const c = await tx.selectFrom('clients').select(['id', 'name', 'country', 'region']).where('id', '=', clientId).executeTakeFirst();
  if (!c) return undefined;
  const ex = await tx.selectFrom('surcharge_exemptions').select('reason').where('client_id', '=', c.id).executeTakeFirst();
  return { client_id: c.id, name: c.name, country: c.country, region: c.region, exempt: ex !== undefined, exempt_reason: ex?.reason ?? null };
}

/**
 * Change a client's location and exemption (PUT /api/v1/clients/:id/surcharge and the staff page
 * /app/clients/:id/surcharge): fields left out keep their value; exempting needs a reason (kept in the audit
 * log), unless the client is exempt already. Audited client.surcharge_updated before → after.
 */
export async function saveClientSurcharge(
  tx: Tx,
  tenantId: string,
  clientId: string,
  b: z.output<typeof clientSurchargePatch>,
  actor: Actor,
): Promise<ClientSurcharge> {
  const c = await tx.selectFrom('clients').select(['id', 'country', 'region']).where('id', '=', clientId).forUpdate().executeTakeFirst();
  if (!c) throw new UseCaseError('not_found', `no client ${clientId} in this workspace`);
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
      .values({ tenant_id: tenantId, client_id: c.id, reason: b.exempt_reason ?? exemptBefore!.reason })
      .onConflict((oc) => oc.column('client_id').doUpdateSet({ reason: b.exempt_reason ?? exemptBefore!.reason }))
      .execute();
  } else if (b.exempt === false) {
    await tx.deleteFrom('surcharge_exemptions').where('client_id', '=', c.id).execute();
  }
  const exemptAfter = await tx.selectFrom('surcharge_exemptions').select('reason').where('client_id', '=', c.id).executeTakeFirst();
  await audit(
    tx,
    tenantId,
    actor,
    'client.surcharge_updated',
    { type: 'client', id: c.id },
    {
      before: { country: c.country, region: c.region, exempt: exemptBefore?.reason ?? null },
      after: { ...location, exempt: exemptAfter?.reason ?? null },
    },
  );
  return { client_id: c.id, ...location, exempt: exemptAfter !== undefined, exempt_reason: exemptAfter?.reason ?? null };
}
