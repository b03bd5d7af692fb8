// Loads Stripe's OpenAPI description (specs/stripe/spec3.yaml) as JSON Schema for ajv: parsed once and
// cached under node_modules/.cache, OpenAPI 3.0 `nullable` rewritten, and — so the check is strict —
// every object that lists its properties closed with additionalProperties:false (the simulator may not
// invent fields). Expandable fields keep their id form plus the objects Settle may expand.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
export const SPEC_PATH = resolve(process.env['SETTLE_SPECS_DIR'] ?? join(here, '../../../shared/specs'), 'stripe/spec3.yaml');
const CACHE_DIR = resolve(here, '../../node_modules/.cache/settle');

/** Objects Settle expands (expand[]=…); other expandable fields are checked as ids only. */
const EXPANDABLE = new Set([
  'charge',
  'payment_intent',
  'payment_method',
  'customer',
  'balance_transaction',
  'refund',
  'dispute',
  'payout',
  'mandate',
  'setup_intent',
]);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export interface OpenApi {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Json }> }> }>>;
  components: { schemas: Record<string, Json> };
}

function transform(node: Json): Json {
  if (Array.isArray(node)) return node.map(transform);
  if (node === null || typeof node !== 'object') return node;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-') && k !== 'x-expansionResources') continue;
    out[k] = transform(v);
  }
  if (out['x-expansionResources'] !== undefined && Array.isArray(out['anyOf'])) {
    out['anyOf'] = out['anyOf'].filter((alt) => {
      const ref = alt && typeof alt === 'object' && !Array.isArray(alt) ? alt['$ref'] : undefined;
      return typeof ref !== 'string' || EXPANDABLE.has(ref.split('/').pop() ?? '');
    });
  }
  delete out['x-expansionResources'];
  if (out['type'] === 'object' && out['properties'] && out['additionalProperties'] === undefined) out['additionalProperties'] = false;
  if (out['nullable'] === true) {
    delete out['nullable'];
    return { anyOf: [out, { type: 'null' }] };
  }
  delete out['nullable'];
  return out;
}

export function loadStripeSpec(): OpenApi {
  const st = statSync(SPEC_PATH);
  const cacheFile = join(CACHE_DIR, `stripe-spec3-${st.size}-${Math.floor(st.mtimeMs)}.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as OpenApi;
  const raw = parse(readFileSync(SPEC_PATH, 'utf8'), { maxAliasCount: -1 }) as OpenApi;
  const spec: OpenApi = { paths: raw.paths, components: { schemas: transform(raw.components.schemas as Json) as Record<string, Json> } };
  spec.paths = transform(raw.paths as unknown as Json) as unknown as OpenApi['paths'];
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(spec));
  } catch {
    /* a read-only node_modules only costs the parse next time */
  }
  return spec;
}

/** The response schema Stripe documents for a route (Fastify `:param` template) and status. */
export function responseSchema(spec: OpenApi, method: string, fastifyRoute: string, status: number): Json | null {
  const path = fastifyRoute.replace(/:([a-z_]+)/g, '{$1}');
  const op = spec.paths[path]?.[method.toLowerCase()];
  if (!op) return null;
  const res = status >= 200 && status < 300 ? op.responses['200'] : op.responses['default'];
  return res?.content?.['application/json']?.schema ?? null;
}

/** Point `#/components/...` refs at the registered components document. */
export function retarget(node: Json, id: string): Json {
  if (Array.isArray(node)) return node.map((n) => retarget(n, id));
  if (node === null || typeof node !== 'object') return node;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${id}${v}` : retarget(v, id);
  return out;
}
