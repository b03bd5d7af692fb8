// Rate limits on every door (issue #8 item 2), through @fastify/rate-limit. One counter per door and key:
//   sign-in (POST /login…) per client address (the password form, its second-factor step, forgotten password
//                          and reset links), and the password form per workspace + e-mail (across addresses)
//   portal                 per link (the signed token in the path)
//   /api/v1                per API key (a call without one: per address)
//   webhooks               per workspace — far above any vendor's burst (Stripe can send hundreds of events
//                          a second; the soak sends 1,000 a second to one workspace)
//   other pages            per address
// /healthz, /readyz and /metrics are not limited (probes and scrapers must always get an answer).
// A refused request gets 429 with Retry-After (seconds) and a message that says when to retry.
// The counters live in memory, per process: two Settle processes behind one balancer each allow the limit.
// That is enough to blunt a flood; the account lockout that must survive restarts is in PostgreSQL.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { z } from 'zod';
import { doorOf } from './csrf.ts';
import { DEFAULT_LOCKOUT, type LockoutPolicy } from '../engine/sign-in-lockout.ts';

export interface Limit {
  readonly max: number;
  readonly windowMs: number;
}

export interface RateLimits {
  readonly signInPerAddress: Limit;
  readonly signInPerAccount: Limit;
  readonly portalPerLink: Limit;
  readonly apiPerKey: Limit;
  readonly webhookPerWorkspace: Limit;
  readonly pagesPerAddress: Limit;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** "30/1m" → 30 requests per minute; units s, m, h. */
export function parseLimit(text: string): Limit | null {
  const m = /^\s*(\d{1,9})\s*\/\s*(\d{1,6})?\s*([smh])\s*$/.exec(text);
  if (!m) return null;
  const max = Number(m[1]);
  const windowMs = Number(m[2] ?? '1') * UNITS[m[3]!]!;
  return max >= 1 && windowMs >= 1000 ? { max, windowMs } : null;
}

// Defaults, each overridable by its environment variable (README, docs/security-limits.md).
export const LIMIT_ENV = {
  SETTLE_LIMIT_SIGNIN_ADDRESS: ['signInPerAddress', '30/1m'],
  SETTLE_LIMIT_SIGNIN_ACCOUNT: ['signInPerAccount', '20/1m'],
  SETTLE_LIMIT_PORTAL_LINK: ['portalPerLink', '1000/1m'],
  SETTLE_LIMIT_API_KEY: ['apiPerKey', '6000/1m'],
  SETTLE_LIMIT_WEBHOOK_WORKSPACE: ['webhookPerWorkspace', '5000/1s'],
  SETTLE_LIMIT_PAGES_ADDRESS: ['pagesPerAddress', '600/1m'],
} as const satisfies Record<string, readonly [keyof RateLimits, string]>;

const limitText = z.string().refine((v) => parseLimit(v) !== null, 'a limit is requests/window, e.g. 30/1m, 5000/1s or 100/1h');

/** The limits from the environment; a malformed value stops start-up with what to write instead. */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimits {
  const out: Partial<Record<keyof RateLimits, Limit>> = {};
  const problems: string[] = [];
  for (const [name, [field, fallback]] of Object.entries(LIMIT_ENV)) {
    const value = env[name] ?? fallback;
    const checked = limitText.safeParse(value);
    if (!checked.success) problems.push(`  ${name}: "${value}" — ${checked.error.issues[0]?.message}`);
    else out[field] = parseLimit(value)!;
  }
  if (problems.length) throw new Error(`invalid configuration:\n${problems.join('\n')}`);
  return out as RateLimits;
}

/** SETTLE_LOCKOUT_AFTER (failures, default 10) and SETTLE_LOCKOUT_MINUTES (first lock, default 15; doubles, up to a day). */
export function lockoutFromEnv(env: NodeJS.ProcessEnv = process.env): LockoutPolicy {
  const whole = (name: string, fallback: number, max: number): number => {
    const v = env[name] ?? String(fallback);
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > max) throw new Error(`invalid configuration:\n  ${name}: "${v}" — a whole number from 1 to ${max}`);
    return n;
  };
  const firstMinutes = whole('SETTLE_LOCKOUT_MINUTES', DEFAULT_LOCKOUT.firstMinutes, 24 * 60);
  return { after: whole('SETTLE_LOCKOUT_AFTER', DEFAULT_LOCKOUT.after, 1000), firstMinutes, maxMinutes: Math.max(firstMinutes, DEFAULT_LOCKOUT.maxMinutes) };
}

const hashed = (s: string): string => crypto.createHash('sha256').update(s).digest('base64url').slice(0, 22);

/** The portal link's token: /portal/<token>/… or /portal/update-method/<token>/…. */
function portalToken(url: string): string {
  const parts = url.split('?')[0]!.split('/');
  return (parts[2] === 'update-method' ? parts[3] : parts[2]) ?? '';
}

const UNLIMITED = new Set(['/healthz', '/readyz', '/metrics']);

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/** Registers the plugin and the hooks (before any route, so that every route gets them). */
export async function registerRateLimits(app: FastifyInstance, limits: RateLimits): Promise<void> {
  // 100,000 keys per counter: an attacker cycling addresses or tokens cannot evict real counters cheaply.
  await app.register(rateLimit, { global: false, cache: 100_000 });
  const make = (l: Limit, key: (req: FastifyRequest) => string): Limiter => app.createRateLimit({ max: l.max, timeWindow: l.windowMs, keyGenerator: key });
  const byAddress = (req: FastifyRequest): string => req.ip;
  const limiter = {
    api: make(limits.apiPerKey, (req) => {
      const auth = req.headers.authorization;
      return auth?.startsWith('Bearer ') ? `key:${hashed(auth.slice(7).trim())}` : `addr:${req.ip}`;
    }),
    webhook: make(limits.webhookPerWorkspace, (req) => req.url.split('?')[0]!.split('/')[2] ?? ''),
    portal: make(limits.portalPerLink, (req) => hashed(portalToken(req.url))),
    page: make(limits.pagesPerAddress, byAddress),
    signInAddress: make(limits.signInPerAddress, byAddress),
    signInAccount: make(limits.signInPerAccount, (req) => {
      const body = (req.body ?? {}) as { workspace?: unknown; email?: unknown };
      return `${String(body.workspace ?? '')
        .trim()
        .toLowerCase()}\n${String(body.email ?? '')
        .trim()
        .toLowerCase()}`;
    }),
  };
  const warned = new Map<string, number>();

  async function check(req: FastifyRequest, reply: FastifyReply, l: Limiter, what: string): Promise<boolean> {
    const r = await l(req);
    if (r.isAllowed || !r.isExceeded) return true;
    const retryAfter = Math.max(1, r.ttlInSeconds);
    // One warn line per key and window, not one per refused request (a flood would drown the log).
    const seen = `${what}\n${r.key}`;
    const until = warned.get(seen);
    if (until === undefined || until < Date.now()) {
      if (warned.size > 10_000) warned.clear();
      warned.set(seen, Date.now() + r.ttl);
      req.log.warn({ limit: what, max: r.max, windowMs: r.timeWindow, address: req.ip }, 'rate limit reached');
    }
    const message = `too many requests (${what}: at most ${r.max} per ${r.timeWindow / 1000} s); retry after ${retryAfter} s`;
    reply.header('retry-after', String(retryAfter)).code(429);
    if (req.method === 'POST' && req.url.split('?')[0] === '/login') {
      reply
        .type('text/html')
        .send(
          `<!doctype html><title>Too many sign-in attempts</title><p>Too many sign-in attempts. Wait ${retryAfter} seconds, then <a href="/login">sign in again</a>.</p>`,
        );
    } else {
      reply.send({ error: { code: 'rate_limited', message } });
    }
    return false;
  }

  // Sign-in forms: POST /login and its steps (/login/second-factor, /login/forgot, reset and invitation links).
  const signInForm = (req: FastifyRequest, url: string): boolean =>
    req.method === 'POST' && (url === '/login' || url.startsWith('/login/') || url.startsWith('/account/reset/') || url.startsWith('/account/invitation/'));
  app.addHook('onRequest', async (req, reply) => {
    const url = req.url.split('?')[0]!;
    if (UNLIMITED.has(url)) return;
    const door = doorOf(url);
    const allowed =
      door === 'api'
        ? await check(req, reply, limiter.api, 'API calls per key')
        : door === 'webhook'
          ? await check(req, reply, limiter.webhook, 'webhooks per workspace')
          : door === 'portal'
            ? await check(req, reply, limiter.portal, 'requests per payment link')
            : signInForm(req, url)
              ? true
              : await check(req, reply, limiter.page, 'page requests per address');
    if (!allowed) return reply;
  });
  // Sign-in is limited once its body is read: per address, then (the password form) per account.
  app.addHook('preHandler', async (req, reply) => {
    const url = req.url.split('?')[0]!;
    if (!signInForm(req, url)) return;
    if (!(await check(req, reply, limiter.signInAddress, 'sign-in attempts per address'))) return reply;
    if (url === '/login' && !(await check(req, reply, limiter.signInAccount, 'sign-in attempts per account'))) return reply;
  });
}
