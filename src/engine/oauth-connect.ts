// The OAuth 2.0 authorization-code steps every books vendor's "Connect to …" shares (QuickBooks Online:
// quickbooks-connect.ts, Xero: xero-connect.ts). Step 1 keeps a one-use nonce for the workspace and staff
// session (oauth_states, per vendor) and signs a state naming them, valid 10 minutes. Step 2 accepts the
// vendor's redirect only with that state, for the same workspace and session, unused and in time — consuming
// it first, so a reload or the Back button never applies an answer twice — and turns the vendor's `error`
// (Cancel, or a refusal) into words. Then the code is exchanged for tokens (Basic client auth, redirect_uri
// repeated); each vendor reads the answer in its own words. Errors come back through the vendor's own
// error type (`fail`), which its pages already know how to show.
import crypto from 'node:crypto';
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import { signToken, verifyToken } from '../http/signed-token.ts';

export const OAUTH_STATE_TTL_SEC = 600;

export type ConnectErrorCode = 'not_configured' | 'denied' | 'bad_state' | 'code_refused' | 'app_refused' | 'unreachable';

/** The vendor's name in messages, the "start again" sentence, and how to raise its error type. */
export interface OAuthVendor {
  /** oauth_states.vendor, e.g. 'quickbooks-online', 'xero'. */
  readonly key: string;
  /** As people call it: "QuickBooks", "Xero". */
  readonly name: string;
  /** e.g. 'Press “Connect to Xero” to start again.' */
  readonly again: string;
  /** What to check when the vendor refuses the request itself (appended to the refusal), ending with the again sentence. */
  readonly refusedHint?: string;
  fail(code: ConnectErrorCode, message: string, returnTo?: string): Error;
}

interface StateClaims {
  readonly t: string; // workspace
  readonly s: string; // staff session id
  readonly n: string; // nonce
  readonly exp: number;
}

const sha256 = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

/** Step 1: keep a one-use nonce and return the signed `state` for the consent URL. */
export async function startOAuthState(
  db: Db,
  vendor: Pick<OAuthVendor, 'key'>,
  input: { tenantId: string; sessionId: string; returnTo: string },
  stateKey: string,
  now: Date,
): Promise<string> {
  const nonce = crypto.randomBytes(24).toString('base64url');
  const exp = Math.floor(now.getTime() / 1000) + OAUTH_STATE_TTL_SEC;
  await withTenant(db, input.tenantId, (tx) =>
    tx
      .insertInto('oauth_states')
      .values({
        tenant_id: input.tenantId,
        session_id: input.sessionId,
        vendor: vendor.key,
        nonce_hash: sha256(nonce),
        return_to: input.returnTo,
        expires_at: new Date(exp * 1000),
      })
      .execute(),
  );
  return signToken({ t: input.tenantId, s: input.sessionId, n: nonce, exp }, stateKey);
}

/**
 * Step 2: check and consume the state of the vendor's redirect; returns where the person goes back to. Throws
 * (vendor.fail) when the state is missing, forged, late, another session's or used — and when the person
 * chose Cancel or the vendor refused (the state is consumed then too).
 */
export async function consumeOAuthState(
  db: Db,
  vendor: OAuthVendor,
  input: { tenantId: string; sessionId: string; query: Readonly<Record<string, string | undefined>> },
  stateKey: string,
  now: Date,
): Promise<string> {
  const q = input.query;
  const { name, again } = vendor;
  if (!q['state']) throw vendor.fail('bad_state', `${name} sent you back without the security code Settle gave it, so nothing was connected. ${again}`);
  const check = verifyToken<StateClaims>(q['state'], stateKey, now.getTime());
  if (!check.ok)
    throw vendor.fail(
      'bad_state',
      check.reason === 'expired'
        ? `The ${name} sign-in took longer than ${OAUTH_STATE_TTL_SEC / 60} minutes, so Settle no longer accepts it; nothing was connected. ${again}`
        : `This ${name} answer does not carry a security code Settle issued, so nothing was connected. ${again}`,
    );
  const claims = check.claims;
  if (claims.t !== input.tenantId || claims.s !== input.sessionId)
    throw vendor.fail(
      'bad_state',
      `This ${name} answer belongs to a connection started in another sign-in, so nothing was connected. Start it from your own browser: ${again}`,
    );
  const consumed = await withTenant(db, input.tenantId, (tx) =>
    tx
      .updateTable('oauth_states')
      .set({ used_at: now })
      .where('nonce_hash', '=', sha256(claims.n))
      .where('session_id', '=', input.sessionId)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('return_to')
      .executeTakeFirst(),
  );
  if (!consumed) throw vendor.fail('bad_state', `This ${name} answer was already used (a reload or the Back button), so it was not applied again. ${again}`);
  const returnTo = consumed.return_to;
  if (q['error'])
    throw vendor.fail(
      'denied',
      q['error'] === 'access_denied'
        ? `You chose Cancel on the ${name} page, so nothing was connected. ${again.replace('start again', 'connect when you are ready')}`
        : `${name} refused the request (${q['error']}); nothing was connected. ${vendor.refusedHint ?? again}`,
      returnTo,
    );
  return returnTo;
}

/** Exchange the authorization code: the token endpoint's status and JSON body (unreachable → vendor.fail). */
export async function exchangeAuthorizationCode(
  vendor: OAuthVendor,
  app: { readonly tokenUrl: string; readonly clientId: string; readonly clientSecret: string },
  code: string,
  redirectUri: string,
  returnTo: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(app.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }).toString(),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw vendor.fail(
      'unreachable',
      `Settle could not reach ${vendor.name} to finish connecting (${(e as Error).message}). Try again in a minute: ${vendor.again}`,
      returnTo,
    );
  }
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}
