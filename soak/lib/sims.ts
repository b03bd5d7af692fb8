// The three vendor simulators, each in a process (group) of its own (soak/sim-process.ts), and the small
// HTTP client the soak uses for their `/_sim` controls and vendor APIs.
import fs from 'node:fs';
import path from 'node:path';
import { spawnGroup, type GroupChild } from '../../bench/lib/process-group.ts';

export interface ConnectWiseInfo {
  readonly baseUrl: string;
  readonly origin: string;
  readonly credentials: { companyId: string; publicKey: string; privateKey: string; clientId: string };
}
export interface StripeInfo {
  readonly baseUrl: string;
  readonly secretKey: string;
  readonly publishableKey: string;
}
export interface QuickBooksInfo {
  readonly baseUrl: string;
  readonly oauthTokenUrl: string;
  readonly realmId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly initialRefreshToken: string;
  readonly accounts: { checking: string; merchantFees: string; undepositedFunds: string };
}

export interface SimProcesses {
  readonly connectwise: ConnectWiseInfo;
  readonly stripe: StripeInfo;
  readonly quickbooks: QuickBooksInfo;
  readonly groups: readonly GroupChild[];
  /** A simulator that exited on its own is a harness failure: its last output says why. */
  readonly died: () => string | null;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

async function startOne<T>(vendor: string, logFile: string, seed?: unknown): Promise<{ info: T; group: GroupChild }> {
  const args = ['--import', 'tsx', path.join(ROOT, 'soak/sim-process.ts'), vendor, '0', ...(seed ? [JSON.stringify(seed)] : [])];
  const g = spawnGroup(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = fs.createWriteStream(logFile, { flags: 'a' });
  g.child.stderr?.pipe(log);
  let buffer = '';
  const info = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${vendor} simulator did not start in 60 s; see ${logFile}`)), 60_000);
    g.child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      const line = buffer.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as T);
    });
    void g.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${vendor} simulator exited (${signal ?? code}) before it was ready; see ${logFile}`));
    });
  });
  return { info, group: g };
}

export async function startSimulators(logDir: string, cwSeed: unknown): Promise<SimProcesses> {
  const [cw, st, qb] = await Promise.all([
    startOne<ConnectWiseInfo>('connectwise', path.join(logDir, 'sim-connectwise.log'), cwSeed),
    startOne<StripeInfo>('stripe', path.join(logDir, 'sim-stripe.log')),
    startOne<QuickBooksInfo>('quickbooks-online', path.join(logDir, 'sim-quickbooks.log')),
  ]);
  const groups = [cw.group, st.group, qb.group];
  let death: string | null = null;
  for (const [name, g] of [
    ['connectwise', cw.group],
    ['stripe', st.group],
    ['quickbooks-online', qb.group],
  ] as const)
    void g.exited.then(({ code, signal }) => (death ??= `${name} simulator exited (${signal ?? code}); see ${logDir}/sim-${name.split('-')[0]}.log`));
  return { connectwise: cw.info, stripe: st.info, quickbooks: qb.info, groups, died: () => death };
}

/** JSON to a simulator (or Settle); throws with the status and body on a non-2xx answer. */
export async function call<T = unknown>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; form?: Record<string, string>; timeoutMs?: number } = {},
): Promise<T> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  if (!res.ok) {
    // Short enough to read in a summary: no portal token, the vendor's or Settle's own message if there is one.
    const where = url.replace(/^https?:\/\/[^/]+/, '').replace(/\/portal\/[^/]+/, '/portal/…');
    let said = text.replace(/\s+/g, ' ').slice(0, 300);
    try {
      const j = JSON.parse(text) as { error?: { message?: string; code?: string } | string; message?: string };
      const e = j.error;
      said = (typeof e === 'object' ? [e.code, e.message].filter(Boolean).join(': ') : (e ?? j.message)) || said;
    } catch {
      /* not JSON */
    }
    throw new HttpError(res.status, `${init.method ?? (body === undefined ? 'GET' : 'POST')} ${where} → ${res.status} ${said}`);
  }
  return (text ? JSON.parse(text) : null) as T;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Every object of a Stripe list endpoint, paging newest first as Stripe does. */
export async function stripeListAll<T extends { id: string }>(stripe: StripeInfo, resource: string, query = ''): Promise<T[]> {
  const out: T[] = [];
  let after: string | null = null;
  for (;;) {
    const url: string = `${stripe.baseUrl}/v1/${resource}?limit=100${query}${after ? `&starting_after=${after}` : ''}`;
    let page: { data: T[]; has_more: boolean } | null = null;
    for (let attempt = 0; !page; attempt++) {
      try {
        page = await call<{ data: T[]; has_more: boolean }>(url, { headers: { authorization: `Bearer ${stripe.secretKey}` } });
      } catch (e) {
        if (!(e instanceof HttpError) || e.status !== 429 || attempt > 50) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    out.push(...page.data);
    if (!page.has_more || page.data.length === 0) return out;
    after = page.data.at(-1)!.id;
  }
}
