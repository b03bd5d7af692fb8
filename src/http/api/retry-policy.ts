// The workspace's retry policy for failed payments (payments-rules.md §3.3), as data: read it, replace it.
// Hard and fix-data declines are never retried whatever the schedule says (§0.4).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { backtestRetryPolicy, HISTORY_DAYS, retryBacktestInput } from '../../engine/retry-backtest.ts';
import { loadRetryPolicy, policyJson, retryPolicyInput, saveRetryPolicy } from '../../engine/retry-settings.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { retryBacktestJson, retryBacktestResponse } from './retry-backtest-json.ts';
import { errorBody } from './schemas.ts';

const step = z.union([z.object({ businessDays: z.number().int() }), z.object({ minutes: z.number().int() })]);
const policy = z.object({
  soft_steps: z.array(step),
  technical_steps: z.array(step),
  update_link_ttl_hours: z.number().int(),
  retry_on_method_update: z.boolean(),
  is_default: z.boolean(),
});

export function registerRetryPolicyRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/retry-policy',
    {
      schema: { tags: ['settings'], summary: 'How failed payments are retried in this workspace (defaults until changed)', response: { 200: policy } },
    },
    async (req) => {
      const caller = callerOf(req);
      return policyJson(await withTenant(deps.ctx.db, caller.tenantId, (tx) => loadRetryPolicy(tx)));
    },
  );
  r.put(
    '/retry-policy',
    {
      schema: {
        tags: ['settings'],
        summary: 'Replace the retry policy',
        description:
          'soft_steps / technical_steps: up to 8 steps each, in increasing order, each {"businessDays": 1–30} (US banking days) or {"minutes": 5–1440}, counted from the first attempt. ' +
          'Soft declines follow soft_steps, technical errors technical_steps; hard and fix-data declines are never retried, and no card is tried more than 10 times in 30 days. ' +
          'update_link_ttl_hours: validity of the update-payment-method link in failure emails (1–720, default 168). retry_on_method_update: retry at once when the client saves a new method (default true).',
        body: retryPolicyInput,
        response: { 200: policy, 400: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      return policyJson(await withTenant(deps.ctx.db, caller.tenantId, (tx) => saveRetryPolicy(tx, caller.tenantId, req.body, caller.actor)));
    },
  );
  r.post(
    '/retry-policy/backtest',
    {
      schema: {
        tags: ['settings'],
        summary: "Replay this workspace's past failed payments under a proposed retry schedule (nothing is saved)",
        description:
          'Same soft_steps / technical_steps as PUT /retry-policy (same limits); history_days: how far back to look ' +
          `(${HISTORY_DAYS.min}–${HISTORY_DAYS.max}, default ${HISTORY_DAYS.default}); detail: true also lists every past failure with the retries each schedule makes of it. Each past failure is replayed under the current and the proposed schedule with the ` +
          "same business-day calendar and card limits the retries use; the chance that a retry collects comes from this workspace's own retries " +
          '(by time since the first attempt, else by retry number, else the whole class, each only with at least min_trials trials — otherwise the failure is counted in not_estimated). ' +
          'Expected amounts are exact minor units per currency, each failure rounded half-even. Hard and fix-data declines are never retried. See docs/retry-backtest.md.',
        body: retryBacktestInput,
        response: { 200: retryBacktestResponse, 400: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const b = await withTenant(deps.ctx.db, caller.tenantId, (tx) => backtestRetryPolicy(tx, req.body, deps.ctx.now()));
      return retryBacktestJson(b, req.body.detail);
    },
  );
}
