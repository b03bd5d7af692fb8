// HTTP requests from a chosen loopback address (127.0.0.x), so that one test can be several clients: Settle
// counts sign-in attempts and locks per client address, and with TRUST_PROXY off (the default) the address is
// the socket's, not a header the client picks. Plus the sign-in steps a browser takes (pre-session cookie and
// CSRF token from GET /login, then the form post).
import http from 'node:http';

export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers ?? {}, localAddress: opts.from ?? '127.0.0.1', agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** name=value of a Set-Cookie header (the first cookie of that name), or null. */
export function cookieFrom(a: Answer, name: string): string | null {
  const set = a.headers['set-cookie'] ?? [];
  const hit = set.find((c) => c.startsWith(`${name}=`));
  return hit ? hit.split(';')[0]! : null;
}

/** The hidden CSRF field of the first form on a page. */
export function csrfFrom(page: string): string | null {
  return /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? null;
}

export interface LoginForm {
  readonly cookie: string;
  readonly token: string;
}

/** What a browser has after opening the sign-in page from `from`: its pre-session cookie and the form's token. */
export async function openLogin(base: string, from = '127.0.0.1'): Promise<LoginForm> {
  const a = await request(`${base}/login`, { from });
  const cookie = cookieFrom(a, 'settle_presession');
  const token = csrfFrom(a.text);
  if (a.status !== 200 || !cookie || !token)
    throw new Error(`GET /login gave ${a.status} without a pre-session cookie or CSRF token:\n${a.text.slice(0, 500)}`);
  return { cookie, token };
}

/** Posts the sign-in form as a browser on this origin would. */
export function postLogin(
  base: string,
  form: LoginForm,
  fields: { workspace: string; email: string; password: string },
  opts: { from?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return request(`${base}/login`, {
    method: 'POST',
    from: opts.from ?? '127.0.0.1',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie, origin: base, 'sec-fetch-site': 'same-origin', ...opts.headers },
    body: new URLSearchParams({ ...fields, _csrf: form.token }).toString(),
  });
}

/** Signs in from `from` and returns the session cookie (name=value). */
export async function signIn(base: string, fields: { workspace: string; email: string; password: string }, from = '127.0.0.1'): Promise<string> {
  const form = await openLogin(base, from);
  const a = await postLogin(base, form, fields, { from });
  const session = cookieFrom(a, 'settle_session');
  if (a.status !== 302 || !session) throw new Error(`sign-in gave ${a.status} without a session:\n${a.text.slice(0, 500)}`);
  return session;
}
