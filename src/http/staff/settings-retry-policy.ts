// Settings → Retry policy (/app/settings/retry-policy): when Settle tries a declined card again. The two
// schedules (soft declines, technical errors) as rows of steps — each "after N business days" or "after N
// minutes" from the first attempt; a step is removed by ticking Remove, added in one of the empty rows (no
// JavaScript needed) and the steps are put in order for the person — then the validity of the
// update-your-payment-method link and whether saving a new method retries at once. Shows the reference
// default (payments-rules.md §3.3) and resets to it. Everyone reads; the owner changes it, as PUT
// /api/v1/retry-policy does: engine/retry-settings.ts saveRetryPolicy, audited settings.retry_policy_changed.
// "Preview against your history" posts the same form with action=preview: the schedule is replayed over past
// failures beside the one in force (settings-retry-policy-preview.ts) and nothing is saved or audited.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { DEFAULT_RETRY_SCHEDULE, type RetryStep } from '../../domain/rules/index.ts';
import {
  DEFAULT_UPDATE_LINK_TTL_HOURS,
  loadRetryPolicy,
  policyJson,
  RETRY_POLICY_LIMITS as L,
  retryPolicyInput,
  saveRetryPolicy,
  stepMinutes,
  type RetryPolicyInput,
} from '../../engine/retry-settings.ts';
import type { HttpDeps } from '../deps.ts';
import { previewAgainstHistory, type PreviewView } from './settings-retry-policy-preview.ts';
import { callerOf, one } from './settings-surcharge.ts';
import { renderStaff } from './view.ts';

type Form = Record<string, string | string[] | undefined>;
type Err = { field: string | null; message: string };
type Kind = 'soft' | 'technical';
type Unit = 'businessDays' | 'minutes';
interface StepRow {
  value: string;
  unit: Unit;
}
interface Values {
  soft: StepRow[];
  technical: StepRow[];
  ttl: string;
  retryOnUpdate: boolean;
}

const PAGE = '/app/settings/retry-policy';
const KINDS: readonly Kind[] = ['soft', 'technical'];
const EMPTY_ROWS = 2;

export const DEFAULT_POLICY: RetryPolicyInput = {
  soft_steps: [...DEFAULT_RETRY_SCHEDULE.soft.steps],
  technical_steps: [...DEFAULT_RETRY_SCHEDULE.technical.steps],
  update_link_ttl_hours: DEFAULT_UPDATE_LINK_TTL_HOURS,
  retry_on_method_update: true,
};

/** "1 business day", "15 minutes", "6 hours" for reading (the form always uses minutes or business days). */
export function stepWords(s: RetryStep): string {
  if ('businessDays' in s) return `${s.businessDays} business day${s.businessDays === 1 ? '' : 's'}`;
  if (s.minutes % 60 === 0) return `${s.minutes / 60} hour${s.minutes === 60 ? '' : 's'}`;
  return `${s.minutes} minute${s.minutes === 1 ? '' : 's'}`;
}

const rowsOf = (steps: readonly RetryStep[]): StepRow[] =>
  steps.map((s) => ('businessDays' in s ? { value: String(s.businessDays), unit: 'businessDays' } : { value: String(s.minutes), unit: 'minutes' }));

const valuesOf = (p: RetryPolicyInput): Values => ({
  soft: rowsOf(p.soft_steps),
  technical: rowsOf(p.technical_steps),
  ttl: String(p.update_link_ttl_hours),
  retryOnUpdate: p.retry_on_method_update,
});

/** The form as the engine's input, or what is wrong in plain words; kept steps are sorted for the person. */
function parseForm(f: Form): { values: Values; input: RetryPolicyInput | null; errors: Err[] } {
  const errors: Err[] = [];
  const values: Values = { soft: [], technical: [], ttl: one(f.update_link_ttl_hours), retryOnUpdate: one(f.retry_on_method_update) === 'on' };
  const steps: Record<Kind, RetryStep[]> = { soft: [], technical: [] };
  for (const kind of KINDS) {
    for (let i = 0; i < 20; i++) {
      const value = one(f[`${kind}_${i}_value`]);
      const unit: Unit = one(f[`${kind}_${i}_unit`]) === 'minutes' ? 'minutes' : 'businessDays';
      if (!value || one(f[`${kind}_${i}_remove`]) === 'on') continue;
      const at = values[kind].length;
      values[kind].push({ value, unit });
      const lim = L[unit];
      const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
      const words = unit === 'minutes' ? 'minutes' : 'business days';
      if (!Number.isInteger(n) || n < lim.min || n > lim.max) {
        errors.push({
          field: `${kind}_${at}_value`,
          message: `Enter a whole number of ${words} from ${lim.min} to ${lim.max} for ${kind === 'soft' ? 'soft-decline' : 'technical'} retry ${at + 1}`,
        });
        continue;
      }
      steps[kind].push(unit === 'minutes' ? { minutes: n } : { businessDays: n });
    }
    if (values[kind].length > L.maxSteps)
      errors.push({ field: `${kind}-steps`, message: `Keep ${kind === 'soft' ? 'soft-decline' : 'technical'} retries to ${L.maxSteps} or fewer` });
    const sorted = [...steps[kind]].sort((a, b) => stepMinutes(a) - stepMinutes(b));
    if (sorted.some((s, i) => i > 0 && stepMinutes(s) === stepMinutes(sorted[i - 1]!)))
      errors.push({ field: `${kind}-steps`, message: `Two ${kind === 'soft' ? 'soft-decline' : 'technical'} retries are at the same time; remove one` });
    steps[kind] = sorted;
  }
  const ttl = /^\d{1,4}$/.test(values.ttl) ? Number(values.ttl) : NaN;
  if (!Number.isInteger(ttl) || ttl < L.updateLinkTtlHours.min || ttl > L.updateLinkTtlHours.max)
    errors.push({
      field: 'update_link_ttl_hours',
      message: `Enter how long the link stays valid as a whole number of hours from ${L.updateLinkTtlHours.min} to ${L.updateLinkTtlHours.max} (${L.updateLinkTtlHours.max / 24} days)`,
    });
  if (errors.length) return { values, input: null, errors };
  // The rows as the person will see them after saving: in order.
  values.soft = rowsOf(steps.soft);
  values.technical = rowsOf(steps.technical);
  // The API's own schema is the last word (a limit this page did not know about is still enforced).
  const parsed = retryPolicyInput.safeParse({
    soft_steps: steps.soft,
    technical_steps: steps.technical,
    update_link_ttl_hours: ttl,
    retry_on_method_update: values.retryOnUpdate,
  });
  if (!parsed.success) return { values, input: null, errors: parsed.error.issues.map((i) => ({ field: null, message: `${i.path.join('.')}: ${i.message}` })) };
  return { values, input: parsed.data, errors };
}

async function page(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  extra: { values?: Values; errors?: Err[]; status?: number; preview?: PreviewView } = {},
) {
  const caller = callerOf(req);
  const current = policyJson(await withTenant(deps.ctx.db, caller.tenantId, (tx) => loadRetryPolicy(tx)));
  const values = extra.values ?? valuesOf(current);
  const withEmpty = (rows: StepRow[]): StepRow[] => [
    ...rows,
    ...Array.from({ length: Math.max(0, Math.min(EMPTY_ROWS, L.maxSteps - rows.length)) }, (): StepRow => ({ value: '', unit: 'businessDays' })),
  ];
  const q = req.query as Record<string, string | undefined>;
  const sameAsDefault = JSON.stringify({ ...current, is_default: undefined }) === JSON.stringify({ ...DEFAULT_POLICY, is_default: undefined });
  return renderStaff(
    req,
    reply,
    'settings-retry-policy',
    {
      title: 'Retry policy for declined payments',
      canEdit: roleAtLeast(caller.role, 'owner'),
      current: {
        soft: current.soft_steps.map(stepWords),
        technical: current.technical_steps.map(stepWords),
        ttl: current.update_link_ttl_hours,
        retryOnUpdate: current.retry_on_method_update,
      },
      reference: {
        soft: DEFAULT_POLICY.soft_steps.map(stepWords),
        technical: DEFAULT_POLICY.technical_steps.map(stepWords),
        ttl: DEFAULT_POLICY.update_link_ttl_hours,
      },
      sameAsDefault,
      rows: { soft: withEmpty(values.soft), technical: withEmpty(values.technical) },
      v: values,
      limits: L,
      errors: extra.errors ?? [],
      preview: extra.preview ?? null,
      notice: q['saved'] === '1' ? 'Saved. Payments declined from now on follow this policy.' : q['reset'] === '1' ? 'Reset to the reference default.' : null,
    },
    { status: extra.status ?? 200 },
  );
}

export function registerRetryPolicySettingsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get(PAGE, async (req, reply) => page(req, reply, deps));

  app.post(PAGE, async (req, reply) => {
    const caller = callerOf(req);
    const form = (req.body ?? {}) as Form;
    if (one(form.action) === 'reset') {
      await withTenant(deps.ctx.db, caller.tenantId, (tx) => saveRetryPolicy(tx, caller.tenantId, DEFAULT_POLICY, caller.actor));
      return reply.redirect(`${PAGE}?reset=1`, 303);
    }
    const { values, input, errors } = parseForm(form);
    if (!input) return page(req, reply, deps, { values, errors, status: 422 });
    // "Preview against your history": the form's schedule replayed over past failures, shown beside the one in
    // force with the form kept as typed. Nothing is saved and nothing audited until the owner saves.
    if (one(form.action) === 'preview')
      return page(req, reply, deps, { values, preview: await previewAgainstHistory(deps, caller.tenantId, input, stepWords) });
    await withTenant(deps.ctx.db, caller.tenantId, (tx) => saveRetryPolicy(tx, caller.tenantId, input, caller.actor));
    return reply.redirect(`${PAGE}?saved=1`, 303);
  });
}
