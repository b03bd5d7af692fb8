// A tenant's retry policy (payments-rules.md §3.3): the soft and technical schedules, how long the
// "update your payment method" link stays valid, and whether saving a new method retries at once. Stored
// as data in retry_policies; a tenant without a row gets the reference defaults. Changing it is a setting
// change: validated, audited in the same transaction.
import { z } from 'zod';
import { DEFAULT_RETRY_SCHEDULE, type RetrySchedule, type RetryStep } from '../domain/rules/index.ts';
import type { Tx } from '../db/tenant.ts';
import { audit, type Actor } from './audit.ts';

export interface RetryPolicy {
  readonly schedule: RetrySchedule;
  readonly updateLinkTtlHours: number;
  readonly retryOnMethodUpdate: boolean;
  readonly isDefault: boolean;
}

export const DEFAULT_UPDATE_LINK_TTL_HOURS = 168;

/**
 * Limits on a schedule: at most 8 retries (§3.3: Stripe's "maximum of eight retries"), business-day steps
 * within 30 days (the per-card limits count 30 days), minute steps from 5 minutes to a day, increasing.
 */
export const RETRY_POLICY_LIMITS = {
  maxSteps: 8,
  businessDays: { min: 1, max: 30 },
  minutes: { min: 5, max: 1440 },
  updateLinkTtlHours: { min: 1, max: 720 },
} as const;
const L = RETRY_POLICY_LIMITS;
const businessDays = z.object({ businessDays: z.number().int().min(L.businessDays.min).max(L.businessDays.max) }).strict();
const minutes = z.object({ minutes: z.number().int().min(L.minutes.min).max(L.minutes.max) }).strict();
/** A step's distance from the first attempt in minutes, for ordering (a business day counts as a day). */
export const stepMinutes = (x: RetryStep): number => ('businessDays' in x ? x.businessDays * 1440 : x.minutes);
const increasing = (steps: readonly RetryStep[]): boolean =>
  steps.every((s, i) => {
    const prev = steps[i - 1];
    if (!prev) return true;
    return stepMinutes(s) > stepMinutes(prev);
  });

export const retryPolicyInput = z
  .object({
    soft_steps: z
      .array(z.union([businessDays, minutes]))
      .max(L.maxSteps)
      .refine(increasing, 'soft_steps must be in increasing order'),
    technical_steps: z
      .array(z.union([minutes, businessDays]))
      .max(L.maxSteps)
      .refine(increasing, 'technical_steps must be in increasing order'),
    update_link_ttl_hours: z.number().int().min(L.updateLinkTtlHours.min).max(L.updateLinkTtlHours.max).default(DEFAULT_UPDATE_LINK_TTL_HOURS),
    retry_on_method_update: z.boolean().default(true),
  })
  .strict();
export type RetryPolicyInput = z.infer<typeof retryPolicyInput>;

const stepsSchema = z.array(z.union([businessDays, minutes]));

export async function loadRetryPolicy(tx: Tx): Promise<RetryPolicy> {
  const row = await tx.selectFrom('retry_policies').selectAll().executeTakeFirst();
  if (!row) return { schedule: DEFAULT_RETRY_SCHEDULE, updateLinkTtlHours: DEFAULT_UPDATE_LINK_TTL_HOURS, retryOnMethodUpdate: true, isDefault: true };
  return {
    schedule: {
      soft: { anchor: 'first_attempt', steps: stepsSchema.parse(row.soft_steps) },
      technical: { anchor: 'first_attempt', steps: stepsSchema.parse(row.technical_steps) },
    },
    updateLinkTtlHours: row.update_link_ttl_hours,
    retryOnMethodUpdate: row.retry_on_method_update,
    isDefault: false,
  };
}

export async function saveRetryPolicy(tx: Tx, tenantId: string, input: RetryPolicyInput, actor: Actor): Promise<RetryPolicy> {
  const before = await loadRetryPolicy(tx);
  const values = {
    soft_steps: JSON.stringify(input.soft_steps),
    technical_steps: JSON.stringify(input.technical_steps),
    update_link_ttl_hours: input.update_link_ttl_hours,
    retry_on_method_update: input.retry_on_method_update,
    updated_by: actor,
  };
  await tx
    .insertInto('retry_policies')
    .values({ tenant_id: tenantId, ...values })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ ...values, updated_at: new Date() }))
    .execute();
  const after = await loadRetryPolicy(tx);
  await audit(tx, tenantId, actor, 'settings.retry_policy_changed', { type: 'tenant', id: tenantId }, { before: policyJson(before), after: policyJson(after) });
  return after;
}

export function policyJson(p: RetryPolicy): RetryPolicyInput & { is_default: boolean } {
  return {
    soft_steps: [...p.schedule.soft.steps],
    technical_steps: [...p.schedule.technical.steps],
    update_link_ttl_hours: p.updateLinkTtlHours,
    retry_on_method_update: p.retryOnMethodUpdate,
    is_default: p.isDefault,
  };
}
