// `settle doctor` (and the staff app's "Test connection") for Autotask and HaloPSA beyond "the credentials
// work": what each vendor can get wrong in a way only it shows. Autotask: the zone lookup, the API user
// accepted, the database's hourly threshold (shared by every integration; warned above 80 %), and read access
// to every entity Settle's flows use. HaloPSA: a token obtainable and the permissions it carries, read access
// to what the flows use, and the webhook registered at Settle's public URL. Each answers with a sentence saying
// what is fine (or a warning), or throws a DoctorProblem saying what is wrong and how to fix it.
import { send, VendorError } from '../connectors/http.ts';
import { AutotaskApi, errorCode as autotaskErrorCode } from '../connectors/psa/autotask/api.ts';
import { autotaskCatalogue } from '../connectors/psa/autotask/catalogue.ts';
import { errorCode as haloErrorCode, HaloApi } from '../connectors/psa/halopsa/api.ts';
import { haloCatalogue } from '../connectors/psa/halopsa/catalogue.ts';
import { haloWebhook } from '../connectors/psa/halopsa/schema.ts';
import { DoctorProblem } from './vendor-checks.ts';

/** Above this share of the hour's threshold used (by all integrations), the doctor warns. */
export const THRESHOLD_WARN_SHARE = 0.8;

/** The Autotask entities Settle's flows read, and what for. */
const AUTOTASK_ENTITIES: readonly [string, string][] = [
  ['Companies', 'clients'],
  ['Contacts', 'billing contacts'],
  ['Invoices', 'invoices'],
  ['BillingItems', 'invoice lines'],
  ['CompanyNotes', 'payment notes, checked before each write-back'],
];

/**
 * The Halo permissions Settle uses: invoices read and paid (InvoicePayment), clients and their users read,
 * webhooks managed (an admin permission). An application set to "all" has them all. Scope names as modelled
 * in simulators/halopsa/README.md (verify on a tenant).
 */
export const HALO_SCOPES = ['read:invoices', 'edit:invoices', 'read:customers', 'admin'] as const;

type Conn = { readonly vendor: string; readonly config: Record<string, unknown>; readonly secrets: Record<string, unknown> };
export type VendorOutcome = string | { warning: string };

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const why = (e: unknown): string =>
  e instanceof VendorError ? `${e.status ?? e.kind}${e.vendorCode ? ` ${e.vendorCode}` : ''}: ${e.message}` : (e as Error).message;

/** Null: nothing vendor-specific to check for this PSA (ConnectWise: the credentials and callback checks cover it). */
export async function checkPsaVendor(conn: Conn, at: { callbackUrl: string; slug: string }): Promise<VendorOutcome | null> {
  if (conn.vendor === 'autotask') return checkAutotask(conn, at.slug);
  if (conn.vendor === 'halopsa') return checkHalo(conn, at);
  return null;
}

async function checkAutotask(conn: Conn, slug: string): Promise<VendorOutcome> {
  const username = str(conn.config['username']);
  const globalUrl = str(conn.config['globalUrl']) || autotaskCatalogue.globalUrl;
  const share = typeof conn.config['budgetShare'] === 'number' ? conn.config['budgetShare'] : autotaskCatalogue.defaultShare;
  const reconnect = `re-enter it: \`settle connect psa autotask --workspace ${slug} --config '{"username":"…","integrationCode":"…"}' --secrets '{"secret":"…"}'\``;
  const headers = {
    ApiIntegrationCode: str(conn.config['integrationCode']),
    UserName: username,
    Secret: str(conn.secrets['secret']),
    accept: 'application/json',
  };
  const api = new AutotaskApi({ globalUrl, username, integrationCode: headers.ApiIntegrationCode, secret: headers.Secret }, { maxAttempts: 1, share });
  let zone: string;
  try {
    zone = await api.zoneUrl();
  } catch (e) {
    throw new DoctorProblem(
      `Autotask's zone lookup for "${username}" at ${globalUrl} failed (${why(e)}). Autotask finds the zone from the API user's name: check it ` +
        `(Admin → Resources/Users, the API user's username) and that this machine reaches ${new URL(globalUrl).origin}; keep globalUrl at its default; ${reconnect}`,
    );
  }
  let threshold: { limit: number; used: number; minutes: number };
  try {
    const res = await send({ vendor: 'autotask', method: 'GET', url: `${zone}V1.0/ThresholdInformation`, headers, timeoutMs: 30_000 }, autotaskErrorCode);
    const b = JSON.parse(res.text) as Record<string, unknown>;
    threshold = {
      limit: Number(b['externalRequestThreshold']),
      used: Number(b['currentTimeframeRequestCount']),
      minutes: Number(b['requestThresholdTimeframe']),
    };
  } catch (e) {
    if (e instanceof VendorError && e.kind === 'auth')
      throw new DoctorProblem(
        `Autotask refused the API user "${username}" (${why(e)}): check its Secret, and that the ApiIntegrationCode is the API user's tracking identifier ` +
          `(Admin → Resources/Users → the API user → Security: security level "API User (system)", API Tracking Identifier); ${reconnect}`,
      );
    throw e;
  }
  const denied: string[] = [];
  for (const [entity, what] of AUTOTASK_ENTITIES) {
    try {
      await api.count(entity, [{ op: 'exist', field: 'id' }], 'other');
    } catch (e) {
      if (e instanceof VendorError && (e.kind === 'auth' || e.kind === 'not_found')) denied.push(`${entity} (${what}: ${why(e)})`);
      else throw e;
    }
  }
  if (denied.length > 0)
    throw new DoctorProblem(
      `the API user "${username}" cannot read ${denied.join(', ')}. Give its security level access to them (Admin → Resources/Users → Security Levels → ` +
        `the API user's level: CRM companies, contacts and notes; Contracts/Billing invoices and billing items), then run \`settle doctor\` again.`,
    );
  const pct = threshold.limit > 0 ? Math.round((threshold.used / threshold.limit) * 100) : 100;
  const usage = `${threshold.used.toLocaleString('en-US')} of ${threshold.limit.toLocaleString('en-US')} requests used in the last ${threshold.minutes} minutes by all integrations (${pct} %)`;
  const fine = `zone ${zone}; API user accepted; reads ${AUTOTASK_ENTITIES.map(([e]) => e).join(', ')}; ${usage}`;
  if (threshold.limit <= 0 || threshold.used / threshold.limit > THRESHOLD_WARN_SHARE)
    return {
      warning:
        `${fine} — above ${THRESHOLD_WARN_SHARE * 100} %: past the threshold Autotask slows and then refuses every integration of this database. ` +
        `Settle keeps to ${Math.round(share * 100)} % of what others leave (budgetShare), write-backs first; find the integration using the rest ` +
        `(Admin → Resources/Users, each API user's tracking identifier) and slow it down.`,
    };
  return fine;
}

async function checkHalo(conn: Conn, at: { callbackUrl: string; slug: string }): Promise<VendorOutcome> {
  const baseUrl = str(conn.config['baseUrl'])
    .replace(/\/+$/, '')
    .replace(/\/api$/i, '');
  const tenant = str(conn.config['tenant']) || null;
  const clientId = str(conn.config['clientId']);
  const reconnect = `\`settle connect psa halopsa --workspace ${at.slug} --config '{"baseUrl":"…","clientId":"…"${tenant ? ',"tenant":"…"' : ''}}' --secrets '{"clientSecret":"…"}'\``;
  const tokenUrl = new URL(`${(str(conn.config['authUrl']) || `${baseUrl}/auth`).replace(/\/+$/, '')}/token`);
  if (tenant) tokenUrl.searchParams.set('tenant', tenant);
  let granted: string;
  let lifeS: number;
  try {
    const res = await send(
      {
        vendor: 'halopsa',
        method: 'POST',
        url: tokenUrl.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: str(conn.secrets['clientSecret']),
          scope: haloCatalogue.scope,
        }).toString(),
      },
      haloErrorCode,
    );
    const b = JSON.parse(res.text) as { scope?: unknown; expires_in?: unknown };
    granted = typeof b.scope === 'string' ? b.scope : haloCatalogue.scope;
    lifeS = Number(b.expires_in);
  } catch (e) {
    if (e instanceof VendorError && (e.status === 400 || e.kind === 'auth'))
      throw new DoctorProblem(
        `Halo's authorisation server refused a token for client ${clientId} (${why(e)}): check the Client ID and Secret of the API application ` +
          `(Configuration → Integrations → HaloPSA API → View Applications; authentication method "Client ID and Secret (Services)")` +
          `${tenant ? ` and the tenant "${tenant}"` : ' and, for a Halo-hosted instance, the tenant name'}; re-enter them: ${reconnect}`,
      );
    if (e instanceof VendorError && (e.kind === 'network' || e.kind === 'timeout' || e.kind === 'not_found'))
      throw new DoctorProblem(
        `cannot get a token from ${tokenUrl.origin}${tokenUrl.pathname} (${why(e)}): check baseUrl (or authUrl) in the settings: ${reconnect}`,
      );
    throw e;
  }
  const scopes = granted.split(/\s+/);
  const missing = scopes.includes('all') ? [] : HALO_SCOPES.filter((s) => !scopes.includes(s));
  if (missing.length > 0)
    throw new DoctorProblem(
      `the API application is granted "${granted}" but Settle needs ${missing.join(', ')}: set its permissions to "all" ` +
        `(Configuration → Integrations → HaloPSA API → the application → Permissions), then run \`settle doctor\` again.`,
    );
  const api = new HaloApi(
    { baseUrl, clientId, clientSecret: str(conn.secrets['clientSecret']), tenant, ...(conn.config['authUrl'] ? { authUrl: str(conn.config['authUrl']) } : {}) },
    { maxAttempts: 1 },
  );
  const denied: string[] = [];
  for (const [path, what] of [
    ['/Invoice', 'read invoices'],
    ['/Client', 'read clients'],
    ['/Users', 'read users (billing contacts)'],
  ] as const) {
    try {
      for await (const _rows of api.pages(path, {}, 1)) break;
    } catch (e) {
      if (e instanceof VendorError && e.kind === 'auth') denied.push(`${what} (${path}: ${why(e)})`);
      else throw e;
    }
  }
  let hooks: {
    id: string;
    url?: string | null | undefined;
    active?: boolean | null | undefined;
    events?: { eventno?: number | null | undefined }[] | null | undefined;
  }[];
  try {
    const body = await api.get('/Webhook');
    hooks = haloWebhook.array().parse(Array.isArray(body) ? body : []);
  } catch (e) {
    if (!(e instanceof VendorError && e.kind === 'auth')) throw e;
    denied.push(`manage webhooks (/Webhook: ${why(e)})`);
    hooks = [];
  }
  if (denied.length > 0)
    throw new DoctorProblem(
      `the API application may not ${denied.join(', ')}: set its permissions to "all" (Configuration → Integrations → HaloPSA API → the application → Permissions).`,
    );
  const path = new URL(at.callbackUrl).pathname;
  const ours = hooks.find((w) => w.url === at.callbackUrl);
  const elsewhere = hooks.filter((w) => w !== ours && safePath(w.url) === path).map((w) => `webhook ${w.id} sends to ${w.url}`);
  const { created, updated } = haloCatalogue.webhooks.events;
  const events = new Set((ours?.events ?? []).map((e) => e.eventno));
  const problems = [
    ...(ours ? [] : [`no webhook at ${at.callbackUrl}, Settle's public URL for this workspace`]),
    ...elsewhere,
    ...(ours && ours.active === false ? [`webhook ${ours.id} is inactive`] : []),
    ...(ours && !(events.has(created) && events.has(updated)) ? [`webhook ${ours.id} is not subscribed to invoice created and updated`] : []),
  ];
  if (problems.length > 0)
    throw new DoctorProblem(
      `${problems.join('; ')}. Set PUBLIC_URL to the address Halo reaches Settle at and run \`settle doctor\` again: it re-creates Settle's webhook ` +
        `(or fix it in Halo: Configuration → Integrations → Webhooks). Until then invoices arrive by polling.`,
    );
  return `token granted (permissions "${granted}", ${Number.isFinite(lifeS) ? `${lifeS} s` : 'lifetime not stated'}); reads invoices, clients and users; webhook ${ours!.id} at ${at.callbackUrl}, active, invoice created and updated`;
}

function safePath(u: string | null | undefined): string | null {
  try {
    return new URL(u ?? '').pathname;
  } catch {
    return null;
  }
}
