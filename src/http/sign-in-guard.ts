// The sign-in form's guard (issue #8 item 2): a locked e-mail/address is refused before its password is
// checked (so the right password after 300 wrong ones does not sign in), every failure is counted, audited
// (never with the password) and logged at warn, and a success forgets the failures. Lock state is in
// PostgreSQL (engine/sign-in-lockout.ts); the per-address and per-account rate limits are in rate-limits.ts.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clearSignInFailures, lockedUntil, recordFailedSignIn, type LockoutPolicy, type SignInAttempt } from '../engine/sign-in-lockout.ts';
import type { HttpDeps } from './deps.ts';
import { html, page } from './html.ts';
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
}

export function signInGuard(deps: HttpDeps): SignInGuard {
  const policy: LockoutPolicy = deps.limits?.lockout ?? lockoutFromEnv();
  const db = deps.ctx.db;
  const attempt = (req: FastifyRequest, tenantId: string, email: string): SignInAttempt => ({ tenantId, email, address: req.ip });
  return {
    async refuseIfLocked(req, reply, tenantId, workspace, email) {
      if (!tenantId) return false;
      const until = await lockedUntil(db, attempt(req, tenantId, email));
      if (!until) return false;
      req.log.warn({ workspace, email, address: req.ip, lockedUntil: until }, 'sign-in refused: locked');
      lockedReply(reply, until, workspace, email);
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
      lockedReply(reply, r.lockedUntil, f.workspace, f.email);
      return true;
    },
    async succeeded(req, tenantId, email) {
      await clearSignInFailures(db, attempt(req, tenantId, email));
    },
  };
}

function lockedReply(reply: FastifyReply, until: Date, workspace: string, email: string): void {
  const seconds = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
  const at = until.toISOString().slice(0, 16).replace('T', ' ');
  void reply
    .code(429)
    .header('retry-after', String(seconds))
    .type('text/html')
    .send(
      page(
        'Sign-in locked',
        html`<div class="card" style="max-width:520px;margin:auto">
          <h3 style="margin-top:0">Sign-in locked</h3>
          <p class="error" id="locked">
            After repeated failed attempts, sign-in as ${email} from your address is locked until ${at} UTC. Each further lock lasts longer.
          </p>
          <p>
            Wait until then, or ask another owner of the workspace to unlock it on Staff → Sign-in lockouts (/staff/lockouts), or on the server run
            <code>settle user unlock ${workspace} ${email}</code>.
          </p>
        </div>`,
      ),
    );
}
