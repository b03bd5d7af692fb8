// A signed-in staff browser for bench/staff-pages.ts: one kept-alive connection, the session cookie from the
// real sign-in form, and Settle's own time for each answer read from its Server-Timing header
// (src/http/server-timing.ts) — the time from receiving the request to the response being ready, without the
// network or this process's parsing.
import http from 'node:http';

export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Settle's Server-Timing `app;dur=`, ms; null when absent. */
  readonly serverMs: number | null;
  /** Request sent → last byte read, ms. */
  readonly wallMs: number;
}

export class StaffBrowser {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  /** The cookies held, as a Cookie header (for a request made outside this class, e.g. a streamed download). */
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(path: string): Promise<Answer> {
    return this.send('GET', path);
  }

  send(method: string, path: string, form?: Record<string, string>): Promise<Answer> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const headers: Record<string, string> = { cookie: this.cookieHeader() };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin: this.base, 'sec-fetch-site': 'same-origin' });
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(`${this.base}${path}`, { method, agent: this.agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('error', reject);
        res.on('end', () => {
          for (const c of res.headers['set-cookie'] ?? []) {
            const [pair] = c.split(';');
            const eq = pair!.indexOf('=');
            this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
          }
          const timing = /app;dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''));
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            serverMs: timing ? Number(timing[1]) : null,
            wallMs: performance.now() - t0,
          });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Through the sign-in form, as a person does: the page (pre-session cookie, CSRF token), then the post. */
  async signIn(workspace: string, email: string, password: string): Promise<void> {
    const page = await this.get('/login');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    if (!token) throw new Error(`the sign-in page (${page.status}) carries no CSRF token`);
    const r = await this.send('POST', '/login', { workspace, email, password, _csrf: token });
    if (r.status !== 302 || !this.cookies.has('settle_session'))
      throw new Error(`signing in answered ${r.status} ${r.headers.location ?? ''} without a session: ${r.body.slice(0, 300)}`);
  }

  close(): void {
    this.agent.destroy();
  }
}
