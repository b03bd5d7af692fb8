// The first-run wizard (/app/setup, owner only): PSA → processor → books (OAuth) → accounts from the books'
// live chart → pilot clients → the first import with its counts moving. One step per page (GOV.UK's "one
// thing per page"); each step's form posts to the same engine function the connections page and the CLI use.
import type { FastifyInstance } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { importCounts } from '../../db/queries/connections.ts';
import { choosePilotClients, importClients, setupState, startFirstImport, type SetupState } from '../../engine/first-run.ts';
import { formFields, KEY_VENDORS } from '../../engine/connect-with-keys.ts';
import { quickbooksRedirectUri } from '../../engine/quickbooks-connect.ts';
import { xeroRedirectUri } from '../../engine/xero-connect.ts';
import { readConnection } from '../../engine/connections.ts';
import { markSetup } from '../../engine/first-run.ts';
import { xeroAccountRows } from './setup-xero.ts';
import { UseCaseError } from '../../engine/context.ts';
import { advice } from '../../engine/connection-checks.ts';
import type { HttpDeps } from '../deps.ts';
import { renderStaff } from './view.ts';
import { boxOf, fieldId, importRunning, sessionOf, submitKeys } from './connections.ts';
import { vendorTitle } from './connection-view.ts';
import { accountPickerData, saveFromForm } from './settings-accounts.ts';
import { allowConsentRedirect } from './quickbooks-oauth.ts';

interface Step {
  readonly slug: string;
  readonly title: string;
  readonly done: boolean;
}

function stepsOf(s: SetupState): Step[] {
  return [
    { slug: 'psa', title: 'Connect the PSA', done: !!s.psa },
    { slug: 'payments', title: 'Connect the payment processor', done: !!s.payments },
    { slug: 'books', title: 'Connect the books', done: !!s.accounting },
    { slug: 'accounts', title: 'Choose the accounts', done: !!s.marks.accounts },
    { slug: 'pilot', title: 'Choose the pilot clients', done: !!s.marks.pilot },
    { slug: 'import', title: 'Import invoices', done: !!s.marks.import },
  ];
}

const KEY_STEPS = {
  psa: { role: 'psa', vendor: 'connectwise', next: '/app/setup/payments' },
  payments: { role: 'payments', vendor: 'stripe', next: '/app/setup/books' },
} as const;

export function registerSetupRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const booksVendor = async (tenantId: string): Promise<{ vendor: string | null; connectedName: string }> => {
    const conn = await readConnection(deps.ctx.db, boxOf(deps), tenantId, 'accounting').catch(() => null);
    const vendor = conn?.vendor ?? null;
    return { vendor, connectedName: vendor ? vendorTitle(vendor) : 'The books' };
  };
  const frame = async (tenantId: string, current: string) => {
    const steps = stepsOf(await setupState(deps.ctx.db, tenantId));
    return { steps: steps.map((s, i) => ({ ...s, number: i + 1, current: s.slug === current })), stepNumber: steps.findIndex((s) => s.slug === current) + 1 };
  };

  app.get('/app/setup', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const steps = stepsOf(await setupState(deps.ctx.db, session.tenantId));
    const next = steps.find((s) => !s.done);
    return renderStaff(req, reply, 'setup', { title: 'Set up Settle', steps: steps.map((s, i) => ({ ...s, number: i + 1 })), next: next ?? null });
  });

  for (const [slug, step] of Object.entries(KEY_STEPS)) {
    // `?vendor=` picks another vendor of the same role that connects with keys (a PSA other than ConnectWise).
    const chosen = (query: unknown): { role: typeof step.role; vendor: string; next: string; action: string } => {
      const v = (query as Record<string, string | undefined>)['vendor'];
      const vendor = KEY_VENDORS.some((kv) => kv.role === step.role && kv.vendor === v) ? v! : step.vendor;
      return { ...step, vendor, action: vendor === step.vendor ? `/app/setup/${slug}` : `/app/setup/${slug}?vendor=${vendor}` };
    };
    const others = (vendor: string) =>
      KEY_VENDORS.filter((kv) => kv.role === step.role && kv.vendor !== vendor).map((kv) => ({
        title: kv.title,
        href: kv.vendor === step.vendor ? `/app/setup/${slug}` : `/app/setup/${slug}?vendor=${kv.vendor}`,
      }));
    const extra = async (tenantId: string, vendor: string) => ({ ...(await frame(tenantId, slug)), wizard: true, otherVendors: others(vendor) });
    app.get(`/app/setup/${slug}`, async (req, reply) => {
      const session = await sessionOf(req, reply, deps);
      if (!session) return reply;
      const k = chosen(req.query);
      const fields = formFields(k.role, k.vendor);
      return renderStaff(req, reply, 'connection-keys', {
        title: `Connect ${vendorTitle(k.vendor)}`,
        role: k.role,
        vendor: k.vendor,
        fields: fields.map((f) => ({ ...f, id: fieldId(f.name) })),
        errors: [],
        values: {},
        returnTo: '/app/setup',
        action: k.action,
        checkAction: `/app/connections/${k.role}/${k.vendor}/check`,
        ...(await extra(session.tenantId, k.vendor)),
      });
    });
    app.post(`/app/setup/${slug}`, async (req, reply) => {
      const session = await sessionOf(req, reply, deps);
      if (!session) return reply;
      const k = chosen(req.query);
      return submitKeys(req, reply, deps, session, k.role, k.vendor, k.next, {
        extra: { ...(await extra(session.tenantId, k.vendor)), action: k.action },
        returnTo: '/app/setup',
      });
    });
  }

  app.get('/app/setup/books', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const state = await setupState(deps.ctx.db, session.tenantId);
    allowConsentRedirect(req, reply, deps);
    return renderStaff(req, reply, 'setup-books', {
      title: 'Connect the books',
      ...(await frame(session.tenantId, 'books')),
      connected: !!state.accounting,
      ...(await booksVendor(session.tenantId)),
      redirectUri: quickbooksRedirectUri(deps.ctx.publicUrl),
      intuitConfigured: !!deps.oauthApps?.quickbooks,
      xeroRedirectUri: xeroRedirectUri(deps.ctx.publicUrl),
      xeroConfigured: !!deps.oauthApps?.xero,
    });
  });

  app.get('/app/setup/accounts', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    if ((await booksVendor(session.tenantId)).vendor === 'xero')
      return renderStaff(req, reply, 'setup-accounts-xero', {
        title: 'Choose the accounts',
        ...(await frame(session.tenantId, 'accounts')),
        ...(await xeroAccountRows(deps, session.tenantId)),
      });
    return renderStaff(req, reply, 'setup-accounts', {
      title: 'Choose the accounts',
      ...(await frame(session.tenantId, 'accounts')),
      ...(await accountPickerData(deps, session)),
      isOwner: true,
    });
  });

  app.post('/app/setup/accounts', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    // Xero's accounts were chosen from its chart when it connected (engine/xero-connect.ts): confirming is the step.
    if ((await booksVendor(session.tenantId)).vendor === 'xero') {
      await markSetup(deps.ctx.db, session.tenantId, 'accounts');
      return reply.redirect('/app/setup/pilot', 303);
    }
    const refused = await saveFromForm(req, reply, deps, session, 'setup-accounts', 'Choose the accounts');
    return refused ?? reply.redirect('/app/setup/pilot', 303);
  });

  app.get('/app/setup/pilot', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    let problem: string | null = null;
    try {
      await importClients(deps.ctx, session.tenantId);
    } catch (e) {
      problem = e instanceof UseCaseError ? e.message : `Settle could not read the clients from the PSA: ${advice(e, 'the PSA')}`;
    }
    const clients = await withTenant(deps.ctx.db, session.tenantId, (tx) =>
      tx.selectFrom('clients').select(['id', 'name', 'collection_enabled']).orderBy('name').limit(1000).execute(),
    );
    return renderStaff(req, reply, 'setup-pilot', {
      title: 'Choose the pilot clients',
      ...(await frame(session.tenantId, 'pilot')),
      clients,
      problem,
      errors: [],
    });
  });

  app.post('/app/setup/pilot', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const raw = (req.body as Record<string, unknown> | null)?.['pilot'];
    const chosen = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
    if (chosen.length === 0) {
      const clients = await withTenant(deps.ctx.db, session.tenantId, (tx) =>
        tx.selectFrom('clients').select(['id', 'name', 'collection_enabled']).orderBy('name').limit(1000).execute(),
      );
      return renderStaff(
        req,
        reply,
        'setup-pilot',
        {
          title: 'Choose the pilot clients',
          ...(await frame(session.tenantId, 'pilot')),
          clients: clients.map((c) => ({ ...c, collection_enabled: false })),
          problem: null,
          errors: [{ field: 'pilot-first', message: 'Choose at least one pilot client: Settle collects only for the clients you choose here' }],
        },
        { status: 422 },
      );
    }
    await choosePilotClients(deps.ctx.db, session.tenantId, chosen, `user:${session.userId}`);
    return reply.redirect('/app/setup/import', 303);
  });

  app.get('/app/setup/import', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const state = await setupState(deps.ctx.db, session.tenantId);
    const counts = await withTenant(deps.ctx.db, session.tenantId, (tx) => importCounts(tx));
    return renderStaff(req, reply, 'setup-import', {
      title: 'Import invoices',
      ...(await frame(session.tenantId, 'import')),
      started: !!state.marks.import,
      counts,
      running: await importRunning(deps, session.tenantId),
    });
  });

  app.post('/app/setup/import', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    await startFirstImport(deps.ctx.db, session.tenantId, `user:${session.userId}`);
    return reply.redirect('/app/setup/import', 303);
  });
}
