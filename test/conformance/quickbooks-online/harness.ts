// Drives the QuickBooks Online simulator with Intuit's community client `node-quickbooks` (OAuth 2.0 mode,
// its base URL pointed at the simulator — the library keeps the API root in `qbo.endpoint` and the token
// and revoke URLs as statics), and records every HTTP answer the library receives through its own axios
// instance, so each can be checked against Intuit's XSDs afterwards.
import { createRequire } from 'node:module';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { startQuickBooksSimulator, type RunningQuickBooksSimulator } from '../../../simulators/quickbooks-online/index.ts';

const require = createRequire(import.meta.url);
// The library's own axios (resolved from its folder), so the interceptors see exactly its traffic.
const QuickBooks = require('node-quickbooks') as QuickBooksStatic;
const axios = createRequire(require.resolve('node-quickbooks'))('axios') as AxiosInstance;

type Fn = (...args: any[]) => void;
export type Qbo = Record<string, Fn> & { endpoint: string; token: string; refreshToken: string; realmId: string };
interface QuickBooksStatic {
  new (
    consumerKey: string,
    consumerSecret: string,
    token: string,
    tokenSecret: boolean,
    realmId: string,
    useSandbox: boolean,
    debug: boolean,
    minorversion: number | string | null,
    oauthversion: string,
    refreshToken: string,
  ): Qbo;
  TOKEN_URL: string;
  REVOKE_URL: string;
}

export interface Answer {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly body: unknown;
}

/** What one library call came to: its error and data as the library hands them over, and the raw answer. */
export interface Outcome {
  readonly err: unknown;
  readonly data: unknown;
  readonly status: number | null;
  readonly body: unknown;
}

export interface Harness {
  readonly sim: RunningQuickBooksSimulator;
  readonly qbo: Qbo;
  /** Every answer received so far (library and direct calls alike). */
  readonly answers: Answer[];
  /**
   * Call a node-quickbooks method (callback style) and wait for it. Calls are paced to ≤ 8 a second: the
   * simulator enforces Intuit's 10 per second per realm and app, and the library does not pace itself.
   */
  call(method: string, ...args: unknown[]): Promise<Outcome>;
  /** Unpaced, for the throttling checks. */
  callNow(method: string, ...args: unknown[]): Promise<Outcome>;
  /** Call a method of another client, paced like `call`. */
  callOn(q: Qbo, method: string, ...args: unknown[]): Promise<Outcome>;
  /** A new client of the same app, e.g. with another minor version. */
  client(minorversion: number | string | null): Promise<Qbo>;
  /** A direct request (for what the library cannot send), recorded like the library's. */
  raw(method: string, path: string, opts?: { body?: unknown; headers?: Record<string, string>; maxRedirects?: number }): Promise<AxiosResponse>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const sim = await startQuickBooksSimulator({ refreshGraceSec: 3600 });
  const answers: Answer[] = [];
  const record = (r: AxiosResponse | undefined): void => {
    if (!r) return;
    answers.push({ method: String(r.config.method).toUpperCase(), url: axios.getUri(r.config), status: r.status, body: r.data });
  };
  const interceptor = axios.interceptors.response.use(
    (r) => {
      record(r);
      return r;
    },
    (e: { response?: AxiosResponse }) => {
      record(e.response);
      throw e;
    },
  );
  QuickBooks.TOKEN_URL = sim.oauthTokenUrl;
  QuickBooks.REVOKE_URL = `${sim.baseUrl}/oauth2/v1/tokens/revoke`;

  const invoke = (q: Qbo, method: string, args: unknown[]): Promise<Outcome> =>
    new Promise((resolve) => {
      const fn = q[method];
      if (typeof fn !== 'function') throw new Error(`node-quickbooks has no method ${method}`);
      fn.call(q, ...args, (err: unknown, data: unknown, res?: AxiosResponse) => {
        const httpErr = err as { response?: AxiosResponse } | null;
        const response = res ?? httpErr?.response;
        resolve({ err, data, status: response?.status ?? null, body: response?.data ?? (err && typeof err === 'object' && 'Fault' in err ? err : data) });
      });
    });

  // ≤ 8 requests a second, and a 429 (a busy machine can bunch requests up) waited out and sent again, as
  // Intuit asks of clients: a throttled request was not executed. The 429 answer is still recorded and checked.
  let last = 0;
  const paced = async <T extends { status: number | null }>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const wait = last + 125 - Date.now();
      last = Math.max(Date.now(), last + 125);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const out = await fn();
      if (out.status !== 429 || attempt >= 4) return out;
      await new Promise((r) => setTimeout(r, 1100));
    }
  };

  // Refresh tokens rotate: every client of the app keeps the newest one (as a real integration must).
  let primary: Qbo | undefined;
  const client = async (minorversion: number | string | null): Promise<Qbo> => {
    const q = new QuickBooks(
      sim.clientId,
      sim.clientSecret,
      'none-yet',
      false,
      sim.realmId,
      true,
      false,
      minorversion,
      '2.0',
      primary?.refreshToken ?? sim.initialRefreshToken,
    );
    q.endpoint = `${sim.baseUrl}/v3/company/`;
    const r = await paced(() => invoke(q, 'refreshAccessToken', []));
    if (r.err) throw new Error(`token refresh failed: ${JSON.stringify(r.body)}`);
    if (primary) primary.refreshToken = q.refreshToken;
    return q;
  };
  const qbo = await client(75);
  primary = qbo;
  return {
    sim,
    qbo,
    answers,
    call: (method, ...args) => paced(() => invoke(qbo, method, args)),
    callNow: (method, ...args) => invoke(qbo, method, args),
    callOn: (q, method, ...args) => paced(() => invoke(q, method, args)),
    client,
    raw: (method, path, opts = {}) =>
      paced(() =>
        axios.request({
          method,
          url: `${sim.baseUrl}${path}`,
          headers: opts.headers ?? { authorization: `Bearer ${qbo.token}`, accept: 'application/json' },
          data: opts.body,
          maxRedirects: opts.maxRedirects ?? 5,
          validateStatus: () => true,
        }),
      ),
    close: async () => {
      axios.interceptors.response.eject(interceptor);
      await sim.close();
    },
  };
}
