// Connecting a PSA or a processor with its keys from the staff app. The form is generated from the connector
// registry's zod schemas (labels from the keys, hints from `.describe()`, required = neither optional nor
// defaulted), the answer is validated with the same schemas (per-field errors), the keys are tried against
// the vendor BEFORE anything is saved (a wrong key is an error on the form, not a saved broken connection),
// and the connection is then saved by connectSystem — the same path as `settle connect`, sealed and audited.
// Secrets are never sent back to the page.
import { z } from 'zod';
import { ID_KEYS as QBD_ID_KEYS } from '../connectors/accounting/quickbooks-desktop/settings.ts';
import { VendorError } from '../connectors/http.ts';
import { vendorEntry, type ConnectionRole } from '../connectors/registry.ts';
import type { PsaConnector } from '../connectors/psa/types.ts';
import type { PaymentsConnector } from '../connectors/payments/types.ts';
import { registerStripeWebhookEndpoint } from '../connectors/payments/stripe/register-webhook.ts';
import { connectSystem, type ConnectResult } from './connect-system.ts';
import { advice } from './connection-checks.ts';
import { psaCallbackUrl } from './psa-callbacks.ts';
import type { Actor } from './audit.ts';
import type { EngineContext } from './context.ts';
import type { SecretBox } from '../db/crypto.ts';

export interface FieldSpec {
  /** The form field's name: `config.baseUrl` or `secrets.privateKey`. */
  readonly name: string;
  readonly key: string;
  readonly source: 'config' | 'secrets';
  readonly label: string;
  readonly hint: string | null;
  readonly required: boolean;
  readonly secret: boolean;
  readonly kind: 'text' | 'number' | 'url';
  /** Has a default or is optional: shown under "Advanced". */
  readonly advanced: boolean;
  readonly defaultValue: string | null;
}

/** Settings Settle fills itself when they are left empty (it registers its own webhook at the processor). */
const FILLED_BY_SETTLE: Readonly<Record<string, readonly string[]>> = {
  'payments/stripe': ['webhookEndpointId', 'webhookSecret'],
  // Chosen in Settings → Accounts from the chart the Web Connector brought, not typed into the keys form.
  'accounting/quickbooks-desktop': Object.keys(QBD_ID_KEYS),
};

/** Which roles connect with keys from the staff app (QuickBooks uses OAuth). */
export const KEY_VENDORS: readonly { role: ConnectionRole; vendor: string; title: string }[] = [
  { role: 'psa', vendor: 'connectwise', title: 'ConnectWise PSA' },
  { role: 'psa', vendor: 'halopsa', title: 'HaloPSA' },
  { role: 'psa', vendor: 'autotask', title: 'Autotask PSA' },
  { role: 'payments', vendor: 'stripe', title: 'Stripe' },
  { role: 'accounting', vendor: 'quickbooks-desktop', title: 'QuickBooks Desktop' },
];

const LABELS: Readonly<Record<string, string>> = {
  baseUrl: 'API address',
  jsUrl: 'Stripe.js address',
  apiMemberIdentifier: 'API member identifier',
  payLinks: 'Pay links in the PSA',
  payLinkField: 'Pay link field',
};

/** "Private key" → "private key", "API address" stays. */
const lowerFirst = (s: string): string => (/^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s);

function labelOf(key: string): string {
  return (
    LABELS[key] ??
    key
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .replace(/^./, (c) => c.toUpperCase())
      .replace(/\bId\b/, 'ID')
  );
}

function describeField(key: string, source: 'config' | 'secrets', t: z.ZodTypeAny, filled: readonly string[]): FieldSpec {
  let inner = t;
  let defaultValue: string | null = null;
  let optional = false;
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      defaultValue = String(inner._def.defaultValue());
      optional = true;
      inner = inner._def.innerType;
    } else if (inner instanceof z.ZodOptional) {
      optional = true;
      inner = inner._def.innerType;
    } else break;
  }
  const isUrl = inner instanceof z.ZodString && inner._def.checks.some((c) => c.kind === 'url');
  const bySettle = filled.includes(key);
  const hint = [t.description ?? inner.description ?? null, bySettle ? 'Leave empty: Settle registers its own webhook and fills this in.' : null]
    .filter(Boolean)
    .join(' ');
  return {
    name: `${source}.${key}`,
    key,
    source,
    label: labelOf(key),
    hint: hint || null,
    required: !optional && !bySettle,
    secret: source === 'secrets',
    kind: inner instanceof z.ZodNumber ? 'number' : isUrl ? 'url' : 'text',
    advanced: optional || bySettle,
    defaultValue,
  };
}

/** The form for a vendor's connection, from its registry schemas. */
export function formFields(role: ConnectionRole, vendor: string): FieldSpec[] {
  const entry = vendorEntry(role, vendor);
  if (!entry) return [];
  const filled = FILLED_BY_SETTLE[`${role}/${vendor}`] ?? [];
  const shapeOf = (s: z.ZodTypeAny): Record<string, z.ZodTypeAny> => (s instanceof z.ZodObject ? (s.shape as Record<string, z.ZodTypeAny>) : {});
  return [
    ...Object.entries(shapeOf(entry.config)).map(([k, t]) => describeField(k, 'config', t, filled)),
    ...Object.entries(shapeOf(entry.secrets)).map(([k, t]) => describeField(k, 'secrets', t, filled)),
  ];
}

export type FieldErrors = Record<string, string>;

/** The form's answer as config and secrets (empty fields left out), and the schema's per-field errors. */
export function parseForm(
  role: ConnectionRole,
  vendor: string,
  body: Readonly<Record<string, unknown>>,
): { config: Record<string, unknown>; secrets: Record<string, unknown>; errors: FieldErrors } {
  const entry = vendorEntry(role, vendor);
  const fields = formFields(role, vendor);
  const config: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  const errors: FieldErrors = {};
  for (const f of fields) {
    const raw = body[f.name];
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (text === '') {
      if (f.required) errors[f.name] = `Enter the ${lowerFirst(f.label)}`;
      continue;
    }
    if (f.kind === 'number') {
      const n = Number(text);
      if (!Number.isFinite(n)) errors[f.name] = `${f.label} must be a number`;
      else (f.source === 'config' ? config : secrets)[f.key] = n;
    } else (f.source === 'config' ? config : secrets)[f.key] = text;
  }
  if (!entry) return { config, secrets, errors: { _: `Settle has no ${role} connector for ${vendor}` } };
  const filled = FILLED_BY_SETTLE[`${role}/${vendor}`] ?? [];
  for (const [source, schema, values] of [
    ['config', entry.config, config],
    ['secrets', entry.secrets, secrets],
  ] as const) {
    const r = schema.safeParse(values);
    if (r.success) continue;
    for (const issue of r.error.issues) {
      const key = String(issue.path[0] ?? '');
      if (filled.includes(key) && values[key] === undefined) continue; // Settle fills it below
      const name = `${source}.${key}`;
      if (!errors[name]) errors[name] = `${labelOf(key)}: ${issue.message === 'Required' ? 'enter a value' : issue.message}`;
    }
  }
  return { config, secrets, errors };
}

export type KeyConnectOutcome = { ok: true; result: ConnectResult } | { ok: false; errors: FieldErrors };

/** Try the keys at the vendor, fill what Settle registers itself, and save through connectSystem. */
export async function connectWithKeys(
  ctx: EngineContext & { readonly box: SecretBox },
  tenant: { id: string; slug: string },
  role: ConnectionRole,
  vendor: string,
  body: Readonly<Record<string, unknown>>,
  actor: Actor,
  opts: { queueImport?: boolean } = {},
): Promise<KeyConnectOutcome> {
  const { config, secrets, errors } = parseForm(role, vendor, body);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const entry = vendorEntry(role, vendor)!;
  if (role === 'payments' && vendor === 'stripe' && !secrets['webhookSecret']) {
    try {
      const endpoint = await registerStripeWebhookEndpoint(
        { secretKey: String(secrets['secretKey']), ...(config['baseUrl'] ? { baseUrl: String(config['baseUrl']) } : {}) },
        { url: psaCallbackUrl(ctx.publicUrl, tenant.slug, 'stripe'), idempotencyKey: `webhook-endpoint:${tenant.id}:${ctx.publicUrl}` },
      );
      config['webhookEndpointId'] = endpoint.endpointId;
      secrets['webhookSecret'] = endpoint.secret;
    } catch (e) {
      return { ok: false, errors: { 'secrets.secretKey': `Stripe did not accept the key: ${advice(e, 'Stripe')}` } };
    }
  }
  try {
    const connector = entry.build(entry.config.parse(config), entry.secrets.parse(secrets), {
      saveSecrets: async () => {},
      loadSecrets: async () => secrets,
      seal: () => {
        throw new Error('not while trying keys');
      },
      open: () => {
        throw new Error('not while trying keys');
      },
    });
    if (role === 'psa') for await (const _page of (connector as PsaConnector).listClients(new Date().toISOString())) break;
    else if (role === 'payments') await (connector as PaymentsConnector).findPaymentsByMetadata('settle_doctor', 'ping');
  } catch (e) {
    // The vendor's first secret field (ConnectWise privateKey, Halo clientSecret, Stripe secretKey) carries the error.
    const first = formFields(role, vendor).find((f) => f.secret)?.name ?? 'secrets.secretKey';
    const refused = e instanceof VendorError && e.kind === 'auth';
    return {
      ok: false,
      errors: { [first]: refused ? `${labelOf(vendor)} refused these keys (${e.status}). Check them and enter them again.` : advice(e, labelOf(vendor)) },
    };
  }
  const result = await connectSystem(
    { db: ctx.db, box: ctx.box, connectors: ctx.connectors, log: ctx.log },
    tenant.id,
    { role, vendor, config, secrets, actor },
    ctx.publicUrl,
    opts,
  );
  return { ok: true, result };
}
