// A tiny browser for the staff pages: keeps cookies as a browser would (Set-Cookie, Max-Age=0 deletes),
// sends forms the way a same-origin browser does (Origin, Sec-Fetch-Site, the page's hidden CSRF field),
// and follows nothing by itself, so tests see each 302.
import { request, csrfFrom, type Answer } from './http-from.ts';

export class StaffBrowser {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly from = '127.0.0.1',
  ) {}

  private keep(a: Answer): Answer {
    for (const c of a.headers['set-cookie'] ?? []) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1);
      if (attrs.some((x) => /^\s*max-age=0\s*$/i.test(x)) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return a;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get session(): string | undefined {
    return this.cookies.get('settle_session');
  }

  async get(path: string): Promise<Answer> {
    return this.keep(await request(`${this.base}${path}`, { from: this.from, headers: { cookie: this.cookieHeader(), accept: 'text/html' } }));
  }

  /** Opens `page`, then posts `fields` to `action` with that page's CSRF token. */
  async submit(page: string, action: string, fields: Record<string, string>): Promise<Answer> {
    const opened = await this.get(page);
    const token = csrfFrom(opened.text);
    if (!token) throw new Error(`GET ${page} gave ${opened.status} without a form token:\n${opened.text.slice(0, 400)}`);
    return this.post(action, { ...fields, _csrf: token });
  }

  async post(action: string, fields: Record<string, string>): Promise<Answer> {
    return this.keep(
      await request(`${this.base}${action}`, {
        method: 'POST',
        from: this.from,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: this.cookieHeader(),
          origin: this.base,
          'sec-fetch-site': 'same-origin',
          accept: 'text/html',
        },
        body: new URLSearchParams(fields).toString(),
      }),
    );
  }

  /** Signs in with the password; answers the 302 (to /app, or to /login/second-factor). */
  async signIn(fields: { workspace: string; email: string; password: string }): Promise<Answer> {
    return this.submit('/login', '/login', fields);
  }

  /** Signs in and expects a session at once (no second factor). */
  async signedIn(fields: { workspace: string; email: string; password: string }): Promise<this> {
    const a = await this.signIn(fields);
    if (a.status !== 302 || a.headers.location !== '/app' || !this.session)
      throw new Error(`sign-in gave ${a.status} ${a.headers.location ?? ''}:\n${a.text.slice(0, 400)}`);
    return this;
  }

  /** Whether the browser's session still opens the staff app (200) rather than being sent to /login. */
  async dashboardOpens(): Promise<boolean> {
    const a = await this.get('/app');
    if (a.status === 200) return true;
    if (a.status === 302 && a.headers.location === '/login') return false;
    throw new Error(`GET /app gave ${a.status} ${a.headers.location ?? ''}`);
  }
}
