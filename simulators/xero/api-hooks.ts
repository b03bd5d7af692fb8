// What every Accounting API call meets before its route (specs/README.md §6): the bearer token and the
// xero-tenant-id header (identity.ts), the scope the operation needs (components › securitySchemes ›
// OAuth2, per-operation scopes), then the limits (limits.ts) — the X-*Limit-Remaining headers on every
// answer, 429 with Retry-After and X-Rate-Limit-Problem over one. Then the Idempotency-Key replay store
// (components › parameters › idempotencyKey: ≤ 128 characters): a repeat of a create with the same key
// gets the first answer again and changes nothing.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendException } from './errors.ts';
import type { XeroIdentity } from './identity.ts';
import type { XeroLimits } from './limits.ts';

export const API_PREFIX = '/api.xro/2.0';

export interface Replay {
  readonly fingerprint: string;
  readonly status: number;
  readonly body: unknown;
}

export interface ApiState {
  readonly replays: Map<string, Replay>;
  readonly stats: { replayed: number; executed: number };
}

/** The scope an operation needs: reads take the .read scope too. */
function scopeFor(method: string, path: string): string[] {
  const area = /^\/(Accounts|Organisation)/i.test(path) ? 'accounting.settings' : /^\/Contacts/i.test(path) ? 'accounting.contacts' : 'accounting.transactions';
  return method === 'GET' ? [area, `${area}.read`] : [area];
}

declare module 'fastify' {
  interface FastifyRequest {
    xeroRelease?: () => void;
  }
}

export function registerApiHooks(app: FastifyInstance, identity: XeroIdentity, limits: XeroLimits): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '';
    if (!path.startsWith(API_PREFIX)) return;
    const tenant = req.headers['xero-tenant-id'];
    const check = identity.checkAccess(req.headers.authorization, typeof tenant === 'string' ? tenant : undefined);
    if (!check.ok) return problem(reply, check.status, check.detail);
    const needs = scopeFor(req.method, path.slice(API_PREFIX.length));
    if (!needs.some((s) => check.scopes.includes(s))) return problem(reply, 403, 'AuthorizationUnsuccessful');
    const a = limits.admit();
    reply.headers(a.headers);
    if (!a.ok) {
      reply.header('retry-after', String(a.retryAfterSec)).header('x-rate-limit-problem', a.problem);
      return problem(reply, 429, `Rate limit exceeded: ${a.problem}`);
    }
    req.xeroRelease = a.release;
  });
  app.addHook('onResponse', async (req) => {
    req.xeroRelease?.();
  });
  // A request aborted by the client still frees its slot.
  app.addHook('onRequestAbort', async (req) => {
    req.xeroRelease?.();
  });
}

/**
 * Run a create under its Idempotency-Key: the first answer is kept and replayed for the same key and the
 * same request; the same key with a different request is refused (assumption: Xero does not document
 * this case; refusing is the safe reading).
 */
export async function idempotent(
  state: ApiState,
  req: FastifyRequest,
  reply: FastifyReply,
  run: () => Promise<{ status: number; body: unknown }>,
): Promise<FastifyReply> {
  const raw = req.headers['idempotency-key'];
  const key = typeof raw === 'string' ? raw : undefined;
  if (key !== undefined && (key.length === 0 || key.length > 128)) {
    return sendException(reply, 14, 'PostDataInvalidException', 'Idempotency-Key must be 1 to 128 characters');
  }
  const fingerprint = createHash('sha256')
    .update(`${req.method} ${req.url}\n${JSON.stringify(req.body ?? null)}`)
    .digest('hex');
  if (key !== undefined) {
    const seen = state.replays.get(key);
    if (seen) {
      if (seen.fingerprint !== fingerprint) {
        return sendException(reply, 14, 'PostDataInvalidException', 'This Idempotency-Key was used with a different request');
      }
      state.stats.replayed += 1;
      return reply.code(seen.status).send(seen.body);
    }
  }
  const answer = await run();
  state.stats.executed += 1;
  if (key !== undefined) state.replays.set(key, { fingerprint, status: answer.status, body: answer.body });
  return reply.code(answer.status).send(answer.body);
}
