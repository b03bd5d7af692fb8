// Settings → Accounts (/app/settings/accounts): the GL mapping, picked from the books' live chart of accounts
// (engine/books-accounts.ts). Everyone signed in sees which accounts are used; owner or finance changes them — checked
// against the chart, audited before → after, used by the next posting. The wizard's accounts step uses the
// same pickers (accountPickerData). Below the accounts, the tracking Settle puts on its postings — QuickBooks'
// class and location, Xero's tracking categories (engine/books-tracking.ts) — shown where the books track them,
// or where one is mapped, so it can be undone.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accountSettingsFor, BOOKS_ACCOUNT_SETTINGS, chartOfAccounts, choicesFor, saveBooksAccounts, type BooksAccount } from '../../engine/books-accounts.ts';
import { readConnection } from '../../engine/connections.ts';
import { UseCaseError } from '../../engine/context.ts';
import { markSetup } from '../../engine/first-run.ts';
import { advice } from '../../engine/connection-checks.ts';
import type { HttpDeps } from '../deps.ts';
import type { StaffSession } from '../../engine/staff-sessions.ts';
import { choicesOf, TRACKING_KEYS, trackingLists, trackingName, trackingSettings, type TrackingLists } from '../../engine/books-tracking.ts';
import { renderStaff } from './view.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { boxOf, sessionOf } from './connections.ts';
import { mappedAccountIds } from '../../connectors/accounting/quickbooks-desktop/settings.ts';
import { xeroNeutralAccounts } from '../../connectors/accounting/xero/settings.ts';

export interface PickerData {
  readonly chartProblem: string | null;
  readonly pickers: readonly {
    key: string;
    id: string;
    label: string;
    hint: string;
    required: boolean;
    current: string;
    currentName: string | null;
    choices: readonly BooksAccount[];
  }[];
  readonly errors: readonly { field: string | null; message: string }[];
  readonly connected: boolean;
}

export async function accountPickerData(
  deps: HttpDeps,
  session: StaffSession,
  posted?: Record<string, unknown>,
  fieldErrors: Record<string, string> = {},
): Promise<PickerData> {
  const conn = await readConnection(deps.ctx.db, boxOf(deps), session.tenantId, 'accounting');
  let chart: BooksAccount[] = [];
  let chartProblem: string | null = null;
  try {
    chart = (await chartOfAccounts(deps.ctx.connectors, session.tenantId)) ?? [];
  } catch (e) {
    const ledger = conn?.vendor === 'xero' ? 'Xero' : 'QuickBooks';
    chartProblem = `Settle could not read the chart of accounts from ${ledger}: ${advice(e, ledger)}`;
  }
  // QuickBooks Desktop's keys form names accounts; the pickers show them as the chart's accounts (ListIDs).
  // Xero's keys are its own (bankAccountCode, …): shown under the neutral ones, its three extra roles left out.
  const saved =
    conn?.vendor === 'quickbooks-desktop'
      ? { ...conn.config, ...mappedAccountIds(conn.config, chart) }
      : conn?.vendor === 'xero'
        ? { ...conn.config, ...xeroNeutralAccounts(conn.config) }
        : (conn?.config ?? {});
  const pickers = accountSettingsFor(conn?.vendor).map((s) => {
    const current = posted ? String(posted[s.key] ?? '') : typeof saved[s.key] === 'string' ? String(saved[s.key]) : '';
    return {
      key: s.key,
      id: `account-${s.key}`,
      label: s.label,
      hint: s.hint,
      required: s.required,
      current,
      currentName: chart.find((a) => a.id === current)?.name ?? (current || null),
      choices: choicesFor(s, chart),
    };
  });
  const errors = Object.entries(fieldErrors).map(([k, message]) => ({ field: `account-${k}`, message }));
  return { chartProblem, pickers, errors, connected: !!conn };
}

export interface TrackingPickerData {
  readonly trackingProblem: string | null;
  readonly trackingLegend: string;
  readonly trackingIntro: string;
  readonly tracking: readonly {
    key: string;
    id: string;
    label: string;
    hint: string;
    current: string;
    currentName: string | null;
    choices: readonly { id: string; name: string }[];
  }[];
}

/** The tracking pickers (engine/books-tracking.ts): each shown when there is something to pick, or when one is mapped. */
export async function trackingPickerData(deps: HttpDeps, session: StaffSession, posted?: Record<string, unknown>): Promise<TrackingPickerData> {
  const conn = await readConnection(deps.ctx.db, boxOf(deps), session.tenantId, 'accounting');
  const ledger = conn?.vendor === 'xero' ? 'Xero' : 'QuickBooks';
  let lists: TrackingLists | null = null;
  let trackingProblem: string | null = null;
  try {
    lists = await trackingLists(deps.ctx.connectors, session.tenantId);
  } catch (e) {
    trackingProblem = `Settle could not read the ${ledger === 'Xero' ? 'tracking categories' : 'classes and locations'} from ${ledger}: ${advice(e, ledger)}`;
  }
  const tracking = trackingSettings(lists, conn?.vendor)
    .map((s) => {
      const saved = typeof conn?.config[s.key] === 'string' ? String(conn.config[s.key]) : '';
      const current = posted && s.key in posted ? String(posted[s.key] ?? '') : saved;
      return {
        key: s.key,
        id: `tracking-${s.key}`,
        label: s.label,
        hint: s.hint,
        current,
        currentName: current ? trackingName(s.key, current, lists) : null,
        choices: choicesOf(s.key, lists),
      };
    })
    .filter((p) => p.choices.length > 0 || p.current !== '');
  return { trackingProblem, trackingLegend: lists?.legend ?? 'Tracking', trackingIntro: lists?.intro ?? '', tracking };
}

/** Save from a pickers form; answers with the re-rendered form (422) when the choice does not fit, else null. */
export async function saveFromForm(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  session: StaffSession,
  view: string,
  title: string,
): Promise<FastifyReply | null> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const chosen: Record<string, string> = Object.fromEntries(
    BOOKS_ACCOUNT_SETTINGS.map((s) => [s.key, typeof body[s.key] === 'string' ? String(body[s.key]) : '']),
  );
  // Class and location only when the form had their pickers (the wizard's has not): absent leaves them be.
  for (const k of TRACKING_KEYS) if (typeof body[k] === 'string') chosen[k] = String(body[k]);
  try {
    await saveBooksAccounts({ db: deps.ctx.db, box: boxOf(deps), connectors: deps.ctx.connectors }, session.tenantId, chosen, `user:${session.userId}`);
    await markSetup(deps.ctx.db, session.tenantId, 'accounts');
    return null;
  } catch (e) {
    if (!(e instanceof UseCaseError)) throw e;
    const fields = (e.detail?.['fields'] ?? {}) as Record<string, string>;
    const isTracking = (k: string): boolean => (TRACKING_KEYS as readonly string[]).includes(k);
    const data = await accountPickerData(deps, session, chosen, Object.fromEntries(Object.entries(fields).filter(([k]) => !isTracking(k))));
    const tracking = view === 'settings-accounts' ? await trackingPickerData(deps, session, chosen) : {};
    const errors = [...data.errors, ...TRACKING_KEYS.filter((k) => fields[k]).map((k) => ({ field: `tracking-${k}`, message: fields[k]! }))];
    return renderStaff(
      req,
      reply,
      view,
      { title, ...data, ...tracking, errors: errors.length ? errors : [{ field: null, message: e.message }], isOwner: true },
      { status: 422 },
    );
  }
}

export function registerAccountSettingsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/app/settings/accounts', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const data = await accountPickerData(deps, session);
    const tracking = data.connected ? await trackingPickerData(deps, session) : { trackingProblem: null, tracking: [] };
    const saved = (req.query as Record<string, string | undefined>)['saved'] === '1';
    // isOwner: may change them — owner or finance (issue #11: the GL mapping is finance's work too; permissions.ts).
    const canEdit = roleAtLeast(session.role, 'finance');
    return renderStaff(req, reply, 'settings-accounts', { title: 'Accounts in the books', ...data, ...tracking, isOwner: canEdit, saved });
  });

  app.post('/app/settings/accounts', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const refused = await saveFromForm(req, reply, deps, session, 'settings-accounts', 'Accounts in the books');
    return refused ?? reply.redirect('/app/settings/accounts?saved=1', 303);
  });
}
