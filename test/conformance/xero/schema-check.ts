// Checks what the Xero simulator answered against Xero's own OpenAPI descriptions (../shared/specs/xero:
// xero_accounting.yaml for /api.xro/2.0, xero-identity.yaml for /connections) with ajv, as the Stripe suite
// does (../stripe/schema-check.ts; `retarget` is shared): a 2xx body against the operation's 200 schema, a
// 400 against its 400 (components › schemas › Error — with Elements[].ValidationErrors for a
// ValidationException). Objects that list their properties are closed, so a field the simulator invents
// fails; Xero's MS-JSON dates (x-is-msdate / x-is-msdate-time: "/Date(1573755038314+0000)/") are checked as
// such. 401 / 403 / 429 are not in the OpenAPI: they are checked against the identity service's problem
// shape Xero documents (developer.xero.com/documentation/guides/oauth2/troubleshooting), 404 as Xero's text.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { retarget } from '../../../simulators/stripe/spec-schemas.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Param = { $ref?: string; name?: string; in?: string };
interface Spec {
  paths: Record<string, Record<string, { parameters?: Param[]; responses?: Record<string, { content?: Record<string, { schema: Json }>; $ref?: string }> }>>;
  components: {
    schemas: Record<string, Json>;
    responses?: Record<string, { content?: Record<string, { schema: Json }> }>;
    parameters?: Record<string, Param>;
  };
}

const SPECS = resolve(process.env['SETTLE_SPECS_DIR'] ?? join(dirname(fileURLToPath(import.meta.url)), '../../../../shared/specs'), 'xero');
const MS_DATE = '^/Date\\(-?\\d+([+-]\\d{4})?\\)/$';

/** What Xero takes for a date in a request: YYYY-MM-DD (a time after it allowed), or its own MS-JSON form. */
const REQUEST_DATE = '^(\\d{4}-\\d{2}-\\d{2}(T[\\d:.]+Z?)?|/Date\\(-?\\d+([+-]\\d{4})?\\)/)$';

/**
 * Close listed objects, `x-*` and `format` dropped (Xero's own formats are loose), dates as Xero writes them
 * (MS-JSON) in answers or as it takes them in requests.
 */
function transform(node: Json, datePattern: string): Json {
  if (Array.isArray(node)) return node.map((n) => transform(n, datePattern));
  if (node === null || typeof node !== 'object') return node;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) if (!k.startsWith('x-') && k !== 'format' && k !== 'example') out[k] = transform(v, datePattern);
  if (node['x-is-msdate'] === true || node['x-is-msdate-time'] === true) out['pattern'] = datePattern;
  if (out['type'] === 'object' && out['properties'] && out['additionalProperties'] === undefined) out['additionalProperties'] = false;
  return out;
}

/**
 * Every Accounting API answer is wrapped in Xero's response envelope — Id, Status, ProviderName, DateTimeUTC
 * beside the collection (developer.xero.com/documentation/api/accounting/requests-and-responses) — which the
 * OpenAPI's collection schemas (Invoices, Payments, …) leave out; they are allowed here, typed.
 */
const ENVELOPE: Record<string, Json> = {
  Id: { type: 'string' },
  Status: { type: 'string', enum: ['OK'] },
  ProviderName: { type: 'string' },
  DateTimeUTC: { type: 'string', pattern: MS_DATE },
};

function load(file: string, datePattern = MS_DATE): Spec {
  const raw = parse(readFileSync(join(SPECS, file), 'utf8'), { maxAliasCount: -1 }) as Spec;
  const spec = transform(raw as unknown as Json, datePattern) as unknown as Spec;
  const schemas = spec.components.schemas as Record<string, { [k: string]: Json }>;
  for (const s of Object.values(schemas)) {
    const props = s['properties'] as Record<string, { [k: string]: Json }> | undefined;
    // A collection (x-objectArrayKey in Xero's file; here: an object with `pagination` or one array of a $ref).
    const isCollection =
      props &&
      Object.values(props).some((p) => p['type'] === 'array') &&
      Object.keys(props).every((k) => k === 'pagination' || k === 'Warnings' || props[k]!['type'] === 'array');
    if (isCollection) s['properties'] = { ...props, ...ENVELOPE };
  }
  // A 400's Elements echo the refused object itself with its ValidationErrors (Xero's documented examples);
  // the OpenAPI's Element lists only the errors and ids, so it stays open here.
  if (schemas['Element']) delete schemas['Element']['additionalProperties'];
  return spec;
}

/** The problem JSON of Xero's identity service (401, 403, 429). */
const PROBLEM: object = {
  type: 'object',
  required: ['Title', 'Status', 'Detail'],
  additionalProperties: false,
  properties: {
    Type: { type: ['string', 'null'] },
    Title: { type: 'string' },
    Status: { type: 'integer' },
    Detail: { type: 'string' },
    Instance: { type: 'string' },
    Extensions: { type: 'object' },
  },
};
export const NOT_FOUND_TEXT = "The resource you're looking for cannot be found";

export interface XeroExchange {
  readonly method: string;
  /** The simulator's route template, e.g. `/api.xro/2.0/Payments/:id`. */
  readonly route: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export class XeroSchemaCheck {
  readonly accounting = load('xero_accounting.yaml');
  readonly identity = load('xero-identity.yaml');
  /** The same descriptions with dates as requests carry them (requestBody schemas). */
  readonly requests = load('xero_accounting.yaml', REQUEST_DATE);
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv.addSchema({ $id: 'xero.json', components: this.accounting.components } as object);
    this.ajv.addSchema({ $id: 'xero-identity.json', components: this.identity.components } as object);
    this.ajv.addSchema({ $id: 'xero-request.json', components: this.requests.components } as object);
  }

  /** Failures of request bodies against their operation's requestBody (empty when all are as Xero describes). */
  checkRequests(requests: readonly { method: string; route: string; body: unknown }[]): string[] {
    const failures: string[] = [];
    for (const r of requests.filter((q) => q.method !== 'GET')) {
      const op = this.operation(r.method, r.route);
      const rb = op && (this.requests.paths[op.path]![r.method.toLowerCase()] as { requestBody?: { content?: Record<string, { schema: Json }> } }).requestBody;
      const schema = rb?.content?.['application/json']?.schema;
      if (!schema) {
        failures.push(`${r.method} ${r.route}: no requestBody in the Xero OpenAPI`);
        continue;
      }
      const v = this.cached(`request ${r.method} ${r.route}`, () => retarget(schema, 'xero-request.json') as object);
      if (!v(r.body)) failures.push(`${r.method} ${r.route}: ${this.ajv.errorsText(v.errors?.slice(0, 5))} in ${JSON.stringify(r.body).slice(0, 300)}`);
    }
    return failures;
  }

  /** The spec and path a simulator route stands for (null: not Xero's). Parameters match any `{…}` segment. */
  operation(method: string, route: string): { spec: 'accounting' | 'identity'; path: string } | null {
    const [spec, rest] = route.startsWith('/api.xro/2.0/') ? (['accounting', route.slice(12)] as const) : (['identity', route] as const);
    const seg = rest.split('/');
    const found = Object.keys(this[spec].paths).find((p) => {
      const ps = p.split('/');
      return ps.length === seg.length && ps.every((s, i) => (s.startsWith('{') ? seg[i]!.startsWith(':') : s.toLowerCase() === seg[i]!.toLowerCase()));
    });
    return found && this[spec].paths[found]![method.toLowerCase()] ? { spec, path: found } : null;
  }

  /** The query parameters an Accounting API operation lists. */
  queryParams(method: string, route: string): string[] {
    const op = this.operation(method, route);
    if (!op) return [];
    const doc = this[op.spec];
    const all = [...(doc.paths[op.path]![method.toLowerCase()]!.parameters ?? []), ...((doc.paths[op.path]!['parameters'] as Param[] | undefined) ?? [])];
    return all.map((p) => (p.$ref ? doc.components.parameters?.[p.$ref.split('/').pop()!] : p)).flatMap((p) => (p?.in === 'query' ? [p.name!] : []));
  }

  /** Failures (empty when every exchange is as Xero documents it). */
  check(exchanges: readonly XeroExchange[]): string[] {
    const failures: string[] = [];
    for (const x of exchanges) {
      const key = `${x.method} ${x.route} ${x.status}`;
      const fail = (v: ValidateFunction): void => {
        if (!v(x.body))
          failures.push(
            `${key}: ${(v.errors ?? [])
              .slice(0, 8)
              .map((e) => `${e.instancePath || '/'} ${e.message}${e.params['additionalProperty'] ? ` '${String(e.params['additionalProperty'])}'` : ''}`)
              .join('; ')}`,
          );
      };
      if (x.status === 401 || x.status === 403 || x.status === 429) fail(this.cached('problem', () => PROBLEM));
      else if (x.status === 404 && x.route.startsWith('/api.xro/'))
        x.body !== NOT_FOUND_TEXT && failures.push(`${key}: not Xero's 404 text: ${JSON.stringify(x.body)}`);
      else {
        const op = this.operation(x.method, x.route);
        if (!op) {
          failures.push(`${key}: no such operation in the Xero OpenAPI`);
          continue;
        }
        const schema = this.responseSchema(op.spec, op.path, x.method, x.status);
        // Any operation may answer 400 with Xero's Error (a where Xero cannot parse, an unknown parameter).
        if (schema === undefined && x.status === 400) fail(this.cached('Error', () => ({ $ref: 'xero.json#/components/schemas/Error' })));
        else if (schema === undefined) failures.push(`${key}: the operation documents no ${x.status} answer`);
        else if (schema !== null)
          fail(this.cached(`${op.spec} ${key}`, () => retarget(schema, op.spec === 'accounting' ? 'xero.json' : 'xero-identity.json') as object));
      }
    }
    return failures;
  }

  /** The documented body schema; null when the status is documented without a body; undefined when not documented. */
  private responseSchema(spec: 'accounting' | 'identity', path: string, method: string, status: number): Json | null | undefined {
    const doc = this[spec];
    let res = doc.paths[path]![method.toLowerCase()]!.responses?.[String(status)];
    if (res?.$ref) res = doc.components.responses?.[res.$ref.split('/').pop()!];
    if (!res) return undefined;
    return res.content?.['application/json']?.schema ?? null;
  }

  private cached(key: string, make: () => object): ValidateFunction {
    let v = this.compiled.get(key);
    if (!v) {
      v = this.ajv.compile(make());
      this.compiled.set(key, v);
    }
    return v;
  }
}
