// Connections (/app/connections): each connection's state (last test, last success and error, the last sign of
// daily use, the vendor's limits), "Test connection" (the doctor's check, engine/connection-checks.ts), the PSA
// callback shown with "Repair" (engine/psa-callbacks.ts), reconnect (keys form, or OAuth for QuickBooks) and
// disconnect with a confirmation. Everyone signed in reads the page; only an owner sees and may use the
// buttons (http/permissions.ts). The set-up wizard and the accounts settings register from here too.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { withTenant } from '../../db/tenant.ts';
import { importCounts, listConnections, openCallbackProblem } from '../../db/queries/connections.ts';
import type { ConnectionRole } from '../../connectors/registry.ts';
import { testConnection, type Finding } from '../../engine/connection-checks.ts';
import { ensurePsaCallback, psaCallbackUrl } from '../../engine/psa-callbacks.ts';
import { disconnectConnection } from '../../engine/disconnect-connection.ts';
import { connectWithKeys, formFields, KEY_VENDORS, parseForm, type FieldErrors } from '../../engine/connect-with-keys.ts';
import { quickbooksRedirectUri } from '../../engine/quickbooks-connect.ts';
import { UseCaseError } from '../../engine/context.ts';
import { staffSession } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { DEFAULT_TIMEOUTS, type StaffSession } from '../../engine/staff-sessions.ts';
import { renderStaff } from './view.ts';
import { limitsOf, ROLE_TITLES, shownSettings, vendorTitle } from './connection-view.ts';
import { allowConsentRedirect, registerQuickBooksOAuthRoutes } from './quickbooks-oauth.ts';
import { registerSetupRoutes } from './setup.ts';
import { registerAccountSettingsRoutes } from './settings-accounts.ts';

const ROLES: readonly ConnectionRole[] = ['psa', 'payments', 'accounting', 'bank_ach'];

/** The signed-in person (authorize.ts has already checked the role; an API key has no session here). */
export async function sessionOf(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<StaffSession | null> {
  const s = await staffSession(req, deps.ctx.db, deps.staff?.timeouts ?? DEFAULT_TIMEOUTS);
  if (!s) void reply.code(403).type('text/plain').send('these pages are for people signed in to Settle, not API keys');
  return s;
}

export function boxOf(deps: HttpDeps) {
  if (!deps.staff) throw new Error('the staff app needs the instance key (HttpDeps.staff)');
  return deps.staff.box;
}

const roleParam = (v: unknown): ConnectionRole | null => (ROLES.includes(v as ConnectionRole) ? (v as ConnectionRole) : null);

export async function connectionsPage(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  session: StaffSession,
  extra: Record<string, unknown> = {},
  status = 200,
) {
  const { rows, callbackProblem, slug } = await withTenant(deps.ctx.db, session.tenantId, async (tx) => ({
    rows: await listConnections(tx),
    callbackProblem: await openCallbackProblem(tx),
    slug: (await tx.selectFrom('tenants').select('slug').where('id', '=', session.tenantId).executeTakeFirstOrThrow()).slug,
  }));
  const byRole = new Map(rows.map((r) => [r.role, r]));
  allowConsentRedirect(req, reply, deps);
  const cards = ROLES.filter((r) => r !== 'bank_ach' || byRole.has(r)).map((role) => {
    const c = byRole.get(role);
    const connected = !!c && c.status !== 'disabled';
    // Connected: new keys for the same vendor; not yet: one way in per vendor that connects with keys.
    const keyVendors = KEY_VENDORS.filter((k) => k.role === role && (!connected || k.vendor === c.vendor));
    const keyVendor = keyVendors[0];
    return {
      role,
      roleTitle: ROLE_TITLES[role],
      connection: c ?? null,
      connected,
      vendorTitle: c ? vendorTitle(c.vendor) : null,
      settings: c ? shownSettings(c) : [],
      limits: c ? limitsOf(c) : null,
      keysHref: keyVendor ? `/app/connections/${role}/${keyVendor.vendor}` : null,
      keysTitle: keyVendor?.title ?? null,
      keyLinks: keyVendors.map((k) => ({ href: `/app/connections/${role}/${k.vendor}`, title: k.title })),
      oauth: role === 'accounting',
      callbackUrl: role === 'psa' && c ? psaCallbackUrl(deps.ctx.publicUrl, slug, c.vendor) : null,
    };
  });
  return renderStaff(
    req,
    reply,
    'connections',
    {
      title: 'Connections',
      cards,
      isOwner: session.role === 'owner',
      // "Write pay links for all open invoices" (pay-links-open.ts): finance and owner.
      canWritePayLinks: session.role === 'owner' || session.role === 'finance',
      callbackProblem,
      redirectUri: quickbooksRedirectUri(deps.ctx.publicUrl),
      intuitConfigured: !!deps.oauthApps?.quickbooks,
      xeroConfigured: !!deps.oauthApps?.xero,
      ...extra,
    },
    { status },
  );
}

async function keysForm(
  req: FastifyRequest,
  reply: FastifyReply,
  role: ConnectionRole,
  vendor: string,
  opts: { errors?: FieldErrors; values?: Record<string, unknown>; returnTo?: string; view?: string; extra?: Record<string, unknown> } = {},
  status = 200,
) {
  const fields = formFields(role, vendor);
  const errors = Object.entries(opts.errors ?? {}).map(([field, message]) => ({ field: field === '_' ? null : fieldId(field), message }));
  // Secrets are never put back into the page; what else the person typed is.
  const values = Object.fromEntries(
    fields.filter((f) => !f.secret && typeof opts.values?.[f.name] === 'string').map((f) => [f.name, String(opts.values![f.name])]),
  );
  return renderStaff(
    req,
    reply,
    opts.view ?? 'connection-keys',
    {
      title: `Connect ${vendorTitle(vendor)}`,
      role,
      vendor,
      fields: fields.map((f) => ({ ...f, id: fieldId(f.name) })),
      errors,
      values,
      returnTo: opts.returnTo ?? '/app/connections',
      action: `/app/connections/${role}/${vendor}`,
      checkAction: `/app/connections/${role}/${vendor}/check`,
      ...opts.extra,
    },
    { status },
  );
}

export const fieldId = (name: string): string => `f-${name.replace(/\./g, '-')}`;

/** POST of a keys form (connections page or wizard): connect, or the form again with its errors (422). */
export async function submitKeys(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  session: StaffSession,
  role: ConnectionRole,
  vendor: string,
  onOk: string,
  formOpts: { view?: string; extra?: Record<string, unknown>; returnTo?: string; queueImport?: boolean } = {},
): Promise<FastifyReply> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const tenant = await deps.ctx.db.selectFrom('tenants').select(['id', 'slug']).where('id', '=', session.tenantId).executeTakeFirstOrThrow();
  const r = await connectWithKeys({ ...deps.ctx, box: boxOf(deps) }, tenant, role, vendor, body, `user:${session.userId}`, {
    ...(formOpts.queueImport === undefined ? {} : { queueImport: formOpts.queueImport }),
  });
  if (!r.ok) return keysForm(req, reply, role, vendor, { ...formOpts, errors: r.errors, values: body }, 422);
  return reply.redirect(onOk, 303);
}

export function registerConnectionsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/app/connections', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const q = req.query as Record<string, string | undefined>;
    const notice = q['connected']
      ? `${vendorTitle(q['connected'])} is connected.`
      : q['disconnected']
        ? `${vendorTitle(q['disconnected'])} is disconnected.`
        : null;
    return connectionsPage(req, reply, deps, session, { notice });
  });

  app.post('/app/connections/:role/test', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const role = roleParam((req.params as { role: string }).role);
    if (!role) return reply.code(404).send('no such connection');
    const findings: Finding[] = await testConnection(
      { db: deps.ctx.db, connectors: deps.ctx.connectors, box: boxOf(deps), publicUrl: deps.ctx.publicUrl, log: deps.ctx.log },
      session.tenantId,
      role,
      `user:${session.userId}`,
    );
    return connectionsPage(req, reply, deps, session, { tested: { role, findings: findings.map((f) => ({ ...f, what: f.what.replace(/^\S+ /, '') })) } });
  });

  app.post('/app/connections/psa/repair', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    try {
      const r = await ensurePsaCallback(
        { db: deps.ctx.db, connectors: deps.ctx.connectors, log: deps.ctx.log },
        session.tenantId,
        deps.ctx.publicUrl,
        `user:${session.userId}`,
      );
      const text = !r
        ? 'There is no PSA connection to repair.'
        : r.outcome === 'present'
          ? `The callback to ${r.url} is registered and active; nothing needed repair.`
          : r.outcome === 'unsupported'
            ? `${vendorTitle(r.vendor)} cannot notify Settle; Settle polls every minute.`
            : `The callback to ${r.url} was ${r.outcome === 'created' ? 'missing' : 'wrong'} and has been registered again.`;
      return connectionsPage(req, reply, deps, session, { notice: text });
    } catch (e) {
      return connectionsPage(req, reply, deps, session, { problem: `The PSA did not accept Settle’s callback: ${(e as Error).message}` }, 502);
    }
  });

  app.get('/app/connections/:role/disconnect', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const role = roleParam((req.params as { role: string }).role);
    const row = role
      ? (await withTenant(deps.ctx.db, session.tenantId, (tx) => listConnections(tx))).find((c) => c.role === role && c.status !== 'disabled')
      : null;
    if (!role || !row) return reply.redirect('/app/connections', 303);
    return renderStaff(req, reply, 'connection-disconnect', {
      title: `Disconnect ${vendorTitle(row.vendor)}?`,
      role,
      vendorTitle: vendorTitle(row.vendor),
      roleTitle: ROLE_TITLES[role],
    });
  });

  app.post('/app/connections/:role/disconnect', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const role = roleParam((req.params as { role: string }).role);
    if (!role) return reply.code(404).send('no such connection');
    try {
      const { vendor } = await disconnectConnection(deps.ctx, session.tenantId, role, `user:${session.userId}`);
      return reply.redirect(`/app/connections?disconnected=${encodeURIComponent(vendor)}`, 303);
    } catch (e) {
      if (e instanceof UseCaseError) return connectionsPage(req, reply, deps, session, { problem: e.message }, 404);
      throw e;
    }
  });

  // Live validation while the form is filled in (htmx on change): the schema's errors for the fields that have a
  // value, as a fragment; nothing is tried at the vendor or saved, and no value is sent back.
  app.post('/app/connections/:role/:vendor/check', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const p = req.params as { role: string; vendor: string };
    const kv = KEY_VENDORS.find((k) => k.role === p.role && k.vendor === p.vendor);
    if (!kv) return reply.code(404).send('Settle connects no such system with keys');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const { errors } = parseForm(kv.role, kv.vendor, body);
    const filled = Object.entries(errors).filter(([name]) => typeof body[name] === 'string' && String(body[name]).trim() !== '');
    return renderStaff(req, reply, 'partials/keys-live-errors', { errors: filled.map(([field, message]) => ({ field: fieldId(field), message })) });
  });

  app.get('/app/connections/:role/:vendor', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const p = req.params as { role: string; vendor: string };
    const kv = KEY_VENDORS.find((k) => k.role === p.role && k.vendor === p.vendor);
    if (!kv) return reply.redirect('/app/connections', 303);
    return keysForm(req, reply, kv.role, kv.vendor);
  });

  app.post('/app/connections/:role/:vendor', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const p = req.params as { role: string; vendor: string };
    const kv = KEY_VENDORS.find((k) => k.role === p.role && k.vendor === p.vendor);
    if (!kv) return reply.code(404).send('Settle connects no such system with keys');
    return submitKeys(req, reply, deps, session, kv.role, kv.vendor, `/app/connections?connected=${kv.vendor}`);
  });

  // The first import's counts, polled by the wizard's progress display (htmx, every 2 s while running).
  app.get('/app/setup/import/progress', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const counts = await withTenant(deps.ctx.db, session.tenantId, (tx) => importCounts(tx));
    const running = await importRunning(deps, session.tenantId);
    return renderStaff(req, reply, 'partials/import-progress', { counts, running });
  });

  registerQuickBooksOAuthRoutes(app, deps);
  registerSetupRoutes(app, deps);
  registerAccountSettingsRoutes(app, deps);
}

/** Whether the workspace's PSA import job is queued or running (graphile-worker's job, key sync-psa:<tenant>). */
export async function importRunning(deps: HttpDeps, tenantId: string): Promise<boolean> {
  const r = await sql<{ n: string }>`SELECT count(*)::text AS n FROM graphile_worker.jobs WHERE key = ${`sync-psa:${tenantId}`}`
    .execute(deps.ctx.db)
    .catch(() => ({ rows: [{ n: '0' }] }));
  return Number(r.rows[0]?.n ?? 0) > 0;
}
