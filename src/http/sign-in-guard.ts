// The sign-in form's guard (issue #8 item 2): a locked e-mail/address is refused before its password is
// checked (so the right password after 300 wrong ones does not sign in), every failure is counted, audited
// (never with the password) and logged at warn, and a success forgets the failures. Lock state is in
// PostgreSQL (engine/sign-in-lockout.ts); the per-address and per-account rate limits are in rate-limits.ts.
import os from 'node:os';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clearSignInFailures, lockedUntil, recordFailedSignIn, type LockoutPolicy, type SignInAttempt } from '../engine/sign-in-lockout.ts';
import type { HttpDeps } from './deps.ts';
import { renderSignedOut } from './staff/view.ts';
import { lockoutFromEnv } from './rate-limits.ts';

export interface SignInGuard {
  /**
   * Answers 429 with Retry-After and returns true when the e-mail is locked for this address. (A boolean, not
   * the reply: a FastifyReply is a thenable, and awaiting one waits for the answer to finish and yields undefined.)
   */
  refuseIfLocked(req: FastifyRequest, reply: FastifyReply, tenantId: string | null, workspace: string, email: string): Promise<boolean>;
  /**
   * Counts, audits and logs a failure. Returns true (answered 429) when this failure started a lock, else
   * false and the caller answers its usual "do not match".
   */
  failed(
    req: FastifyRequest,
    reply: FastifyReply,
    f: { tenantId: string | null; workspace: string; email: string; userId: string | null; reason: string },
  ): Promise<boolean>;
  succeeded(req: FastifyRequest, tenantId: string, email: string): Promise<void>;
  /**
   * Runs a password check when one of the few check slots is free (queued otherwise). Null when the queue is
   * full: the caller answers `busy` (429 with Retry-After). A flood from many addresses thus costs at most
   * `slots` cores of scrypt, and the rest of Settle (the API, the portal, webhooks) keeps the others.
   */
  checkSlot<T>(check: () => Promise<T>): Promise<{ value: T } | null>;
  busy(req: FastifyRequest, reply: FastifyReply): void;
}

// Password checks at once (scrypt, ~16 MiB and tens of ms of CPU each, on libuv's pool) and checks waiting.
const CHECK_SLOTS = Math.max(1, Math.floor(os.availableParallelism() / 2));
const CHECK_QUEUE = 16;

export function signInGuard(deps: HttpDeps): SignInGuard {
  const policy: LockoutPolicy = deps.limits?.lockout ?? lockoutFromEnv();
  const db = deps.ctx.db;
  let running = 0;
  let lastBusyLog = 0;
  const waiting: (() => void)[] = [];
  const attempt = (req: FastifyRequest, tenantId: string, email: string): SignInAttempt => ({ tenantId, email, address: req.ip });
  return {
    async refuseIfLocked(req, reply, tenantId, workspace, email) {
      if (!tenantId) return false;
      const until = await lockedUntil(db, attempt(req, tenantId, email));
      if (!until) return false;
      req.log.warn({ workspace, email, address: req.ip, lockedUntil: until }, 'sign-in refused: locked');
      lockedReply(deps, req, reply, until, workspace, email);
      return true;
    },
    async failed(req, reply, f) {
      // Unknown workspace: nothing to lock or audit (no tenant); the per-address rate limit still applies.
      const r = f.tenantId ? await recordFailedSignIn(db, { ...attempt(req, f.tenantId, f.email), userId: f.userId, reason: f.reason }, policy) : null;
      req.log.warn(
        { workspace: f.workspace, email: f.email, address: req.ip, reason: f.tenantId ? f.reason : 'unknown_workspace', failures: r?.failures },
        r?.lockedUntil ? 'sign-in failed; locked' : 'sign-in failed',
      );
      if (!r?.lockedUntil) return false;
      lockedReply(deps, req, reply, r.lockedUntil, f.workspace, f.email);
      return true;
    },
    async succeeded(req, tenantId, email) {
      await clearSignInFailures(db, attempt(req, tenantId, email));
    },
    async checkSlot(check) {
      if (running >= CHECK_SLOTS) {
        if (waiting.length >= CHECK_QUEUE) return null;
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else running++;
      try {
        return { value: await check() };
      } finally {
        const next = waiting.shift();
        if (next)
          next(); // the slot passes straight to the next check
        else running--;
      }
    },
    busy(req, reply) {
      // One warn line per 10 s, not one per refused post.
      if (Date.now() - lastBusyLog > 10_000) {
        lastBusyLog = Date.now();
        req.log.warn({ address: req.ip, waiting: waiting.length }, 'sign-in refused: too many password checks in progress');
      }
      renderSignedOut(
        req,
        reply.header('retry-after', '2'),
        'message',
        {
          title: 'Sign in',
          message: 'Too many sign-ins are being checked right now. Wait a moment and sign in again.',
          kind: 'error',
          link: { href: '/login', text: 'Back to sign-in' },
        },
        { status: 429, deps },
      );
    },
  };
}

function lockedReply(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply, until: Date, workspace: string, email: string): void {
  const seconds = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
  const at = until.toISOString().slice(0, 16).replace('T', ' ');
  renderSignedOut(req, reply.header('retry-after', String(seconds)), 'sign-in-locked', { at, workspace, email }, { status: 429, deps });
}
