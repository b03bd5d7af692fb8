// The staff dashboard: sign in, then every invoice with its state in the PSA, at the processor and in the
// books; payouts with their deposits; and the exceptions that need a person.
import type { FastifyInstance } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { exceptions, invoicesAcrossSystems, recentPayouts } from '../../db/queries/dashboard.ts';
import { checkPassword } from '../passwords.ts';
import { html, page, type Raw } from '../html.ts';
import { identify, staffSession } from '../auth.ts';
import { csrfField, csrfToken } from '../csrf.ts';
import { signInGuard } from '../sign-in-guard.ts';
import { registerLockoutRoutes } from './lockouts.ts';
import { registerStaffAccountRoutes } from './staff-accounts.ts';
import { completeSignIn, forgotLink } from './sign-in.ts';
import { csrf, staffNav, timeoutsOf } from './staff-forms.ts';
import type { HttpDeps } from '../deps.ts';

function pill(state: string | null, goodWhen: readonly string[]): Raw {
  if (!state) return html`<span class="muted">—</span>`;
  const cls = goodWhen.includes(state) ? 'ok' : /fail|unknown|returned|disputed/.test(state) ? 'bad' : 'warn';
  return html`<span class="pill ${cls}">${state}</span>`;
}

function loginPage(csrf: string, error?: string): string {
  return page(
    'Sign in',
    html`<div class="card" style="max-width:420px;margin:auto">
      <form method="post" action="/login">
        ${csrfField(csrf)}
        <label>Workspace</label><input type="text" name="workspace" autocomplete="organization" required /> <label>Email</label
        ><input type="email" name="email" autocomplete="username" required /> <label>Password</label
        ><input type="password" name="password" autocomplete="current-password" required />
        <p><button type="submit">Sign in</button></p>
        ${error ? html`<p class="error">${error}</p>` : ''}
      </form>
      ${forgotLink}
    </div>`,
  );
}

export function registerDashboardRoutes(app: FastifyInstance, deps: HttpDeps): void {
  registerLockoutRoutes(app, deps);
  registerStaffAccountRoutes(app, deps);
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/dashboard'));
  const guard = signInGuard(deps);
  const https = deps.security?.https ?? false;
  app.get('/login', { schema: { hide: true } }, async (req, reply) =>
    reply
      .type('text/html')
      .header('cache-control', 'no-store')
      .send(loginPage(csrfToken(req, reply, deps.sessionSecret, https))),
  );
  app.post<{ Body: { workspace?: string; email?: string; password?: string } }>('/login', { schema: { hide: true } }, async (req, reply) => {
    const { workspace = '', email = '', password = '' } = req.body ?? {};
    const tenant = await deps.ctx.db.selectFrom('tenants').select('id').where('slug', '=', workspace.trim().toLowerCase()).executeTakeFirst();
    // A locked e-mail/address is refused before its password is checked (sign-in-guard.ts).
    if (await guard.refuseIfLocked(req, reply, tenant?.id ?? null, workspace, email)) return reply;
    const user = tenant
      ? await withTenant(deps.ctx.db, tenant.id, (tx) =>
          tx.selectFrom('users').select(['id', 'password_hash']).where('email', '=', email.trim().toLowerCase()).executeTakeFirst(),
        )
      : undefined;
    // Always one password check, against a dummy hash when the workspace or e-mail is unknown (passwords.ts),
    // so the answer takes as long whether or not the account exists.
    // At most a few checks at once (sign-in-guard.ts): a flood cannot take every core.
    const checked = await guard.checkSlot(() => checkPassword(password, user?.password_hash));
    if (!checked) {
      guard.busy(req, reply);
      return reply;
    }
    const matches = checked.value;
    if (!tenant || !user || !matches) {
      const reason = !user ? 'unknown_email' : 'wrong_password';
      if (await guard.failed(req, reply, { tenantId: tenant?.id ?? null, workspace, email, userId: user?.id ?? null, reason })) return reply;
      return reply
        .code(401)
        .type('text/html')
        .send(
          loginPage(
            csrfToken(req, reply, deps.sessionSecret, https),
            'That workspace, email and password do not match. Check the workspace name printed by `settle start`.',
          ),
        );
    }
    // The failures are forgotten only when the session opens (after the second factor, if any: sign-in.ts),
    // so wrong second-factor codes count towards the same lock as wrong passwords.
    // Second factor if the user has one, then a server-side session (sign-in.ts).
    return completeSignIn(req, reply, deps, { tenantId: tenant.id, userId: user.id, password, storedHash: user.password_hash });
  });
  app.get('/dashboard', { schema: { hide: true } }, async (req, reply) => {
    const caller = await identify(req, deps.ctx.db, deps.sessionSecret, timeoutsOf(deps));
    if (!caller) return reply.redirect('/login');
    const session = await staffSession(req, deps.ctx.db, timeoutsOf(deps));
    const view = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
      const tenant = await tx.selectFrom('tenants').select(['name', 'slug']).where('id', '=', caller.tenantId).executeTakeFirstOrThrow();
      const conns = await tx.selectFrom('connections').select(['role', 'vendor', 'status']).execute();
      return { tenant, conns, invoices: await invoicesAcrossSystems(tx), payouts: await recentPayouts(tx), exceptions: await exceptions(tx) };
    });
    const vendor = (role: string): string => view.conns.find((c) => c.role === role)?.vendor ?? 'not connected';
    const m = (minor: bigint, cur: string): string => format(money(minor, parseCurrency(cur)));
    const body = html`${session ? staffNav(session, csrf(req, reply, deps)) : ''}
      <div class="card">
        <strong>${view.tenant.name}</strong> <span class="muted">workspace ${view.tenant.slug}</span> · PSA: ${vendor('psa')} · Payments: ${vendor('payments')}
        · Books: ${vendor('accounting')} · <a href="/api/docs">API</a>
      </div>
      ${
        view.exceptions.length
          ? html`<div class="card">
              <h3 style="margin-top:0">Needs attention</h3>
              <table>
                <tbody>
                  ${view.exceptions.map(
                    (e) =>
                      html`<tr>
                        <td><span class="pill bad">${e.kind}</span></td>
                        <td>${e.detail}</td>
                        <td class="muted">${new Date(e.at).toISOString().slice(0, 16).replace('T', ' ')}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
          : ''
      }
      <div class="card">
        <h3 style="margin-top:0">Invoices</h3>
        <table id="invoices">
          <thead>
            <tr>
              <th>Invoice</th>
              <th>Client</th>
              <th>Due</th>
              <th class="num">Total</th>
              <th>Settle</th>
              <th>Processor</th>
              <th>PSA (${vendor('psa')})</th>
              <th>Books (${vendor('accounting')})</th>
            </tr>
          </thead>
          <tbody>
            ${view.invoices.map(
              (i) =>
                html`<tr data-invoice="${i.number}">
                  <td>${i.number}</td>
                  <td>${i.client_name}</td>
                  <td>${i.due_on ?? ''}</td>
                  <td class="num">${m(i.total_minor, i.currency)}</td>
                  <td>${pill(i.status, ['paid'])}</td>
                  <td>${pill(i.payment_state, ['succeeded'])}</td>
                  <td>${pill(i.psa_posting, ['posted'])}</td>
                  <td>${pill(i.books_posting, ['posted'])}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div class="card">
        <h3 style="margin-top:0">Payouts</h3>
        ${
          view.payouts.length === 0
            ? html`<p class="muted">No payouts yet.</p>`
            : html`<table id="payouts">
                <thead>
                  <tr>
                    <th>Payout</th>
                    <th>Arrives</th>
                    <th class="num">Amount</th>
                    <th class="num">Fees</th>
                    <th>Deposit in books</th>
                  </tr>
                </thead>
                <tbody>
                  ${view.payouts.map(
                    (p) =>
                      html`<tr>
                        <td>${p.processor_payout_id}</td>
                        <td>${p.arrival_date}</td>
                        <td class="num">${m(p.amount_minor, p.currency)}</td>
                        <td class="num">${m(p.fees_minor, p.currency)}</td>
                        <td>${pill(p.deposit_status, ['posted'])} ${p.deposit_remote_id ?? ''}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </div>`;
    return reply
      .type('text/html')
      .header('cache-control', 'no-store')
      .send(page('Dashboard', body, { brand: view.tenant.name, head: html`<meta http-equiv="refresh" content="10;url=/dashboard?auto=1" />` }));
  });
}
