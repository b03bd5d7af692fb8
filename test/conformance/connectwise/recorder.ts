// Drives the ConnectWise simulator with `connectwise-rest` and checks every exchange against the
// vendor's types (vendor-types.ts): a 2xx body against the operation's declared response type, a
// 4xx/5xx body against ConnectWise's ErrorResponseMessage. Each checked exchange marks the simulator
// route it hit, so the suite can require that every registered route was checked.
//
// connectwise-rest builds its base URL as `https://${companyUrl}/${entryPoint}/apis/3.0` (Manage.ts),
// so it cannot reach a plain-HTTP local server by configuration. The suite points each of its axios
// instances (one per API group) at the simulator instead; path building, query parameters, headers,
// Basic auth, clientId, bodies and error wrapping all stay the library's own.
import { Ajv, type ValidateFunction } from 'ajv';
import { ManageAPI } from 'connectwise-rest';
import type { Schema } from 'ts-json-schema-generator';
import { API_PATH, type RunningConnectWiseSimulator } from '../../../simulators/connectwise/index.ts';
import { blankParams, type VendorTypes } from './vendor-types.ts';

interface AxiosLike {
  defaults: { baseURL?: string };
  interceptors: {
    response: {
      use(ok: (r: AxiosResponseLike) => AxiosResponseLike, fail: (e: { response?: AxiosResponseLike }) => Promise<never>): void;
    };
  };
}
interface AxiosResponseLike {
  status: number;
  data: unknown;
  headers: Record<string, unknown>;
  config: { method?: string; url?: string; baseURL?: string };
}

export interface Exchange {
  readonly method: string;
  /** Path under the API root, with query string. */
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly body: unknown;
}

export interface Route {
  readonly method: string;
  readonly url: string;
}

/** The simulator route a request hit: static segments win over parameters, as in Fastify. */
export function routeFor(routes: readonly Route[], method: string, fullPath: string): Route | null {
  const params = (r: Route) => (r.url.match(/:/g) ?? []).length;
  const candidates = routes
    .filter((r) => r.method === method.toUpperCase())
    .filter((r) => new RegExp(`^${r.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]\w*/g, '[^/]+')}$`).test(fullPath));
  return candidates.sort((a, b) => params(a) - params(b))[0] ?? null;
}

/** A `connectwise-rest` client whose every response is recorded. */
export function clientFor(cw: RunningConnectWiseSimulator, exchanges: Exchange[], creds = cw.credentials): ManageAPI {
  const cwm = new ManageAPI({
    companyId: creds.companyId,
    companyUrl: new URL(cw.baseUrl).host,
    publicKey: creds.publicKey,
    privateKey: creds.privateKey,
    clientId: creds.clientId,
    apiVersion: '2022.1',
    logger: () => {},
  });
  const record = (r: AxiosResponseLike): void => {
    exchanges.push({
      method: (r.config.method ?? 'get').toUpperCase(),
      url: r.config.url ?? '',
      status: r.status,
      contentType: String(r.headers['content-type'] ?? ''),
      body: r.data,
    });
  };
  // The client itself (its paginate() calls methods with the client as `this`) and each API group.
  for (const group of [cwm, ...Object.values(cwm)]) {
    const axios = (group as { instance?: AxiosLike } | null)?.instance;
    if (!axios?.interceptors) continue;
    axios.defaults.baseURL = cw.baseUrl;
    axios.interceptors.response.use(
      (r) => {
        record(r);
        return r;
      },
      (e) => {
        if (e.response) record(e.response);
        return Promise.reject(e);
      },
    );
  }
  return cwm;
}

export class Conformance {
  readonly covered = new Set<string>();
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly compiled = new Map<Schema, ValidateFunction>();

  constructor(
    private readonly vendor: VendorTypes,
    private readonly routes: readonly Route[],
    /** Routes outside ConnectWise's REST types (the callback signing-key URL), with their own schema. */
    private readonly extraSchemas: ReadonlyMap<string, Schema>,
  ) {}

  private validator(schema: Schema): ValidateFunction {
    let v = this.compiled.get(schema);
    if (!v) {
      v = this.ajv.compile(schema as object);
      this.compiled.set(schema, v);
    }
    return v;
  }

  /** Problems with one exchange (empty when it conforms); marks its route as covered when it does. */
  check(e: Exchange): string[] {
    const path = e.url.split('?')[0]!;
    const full = path.startsWith('/v4_6_release/') ? path : `${API_PATH}${path}`;
    const route = routeFor(this.routes, e.method, full);
    const label = `${e.method} ${e.url} → ${e.status}`;
    const problems: string[] = [];
    const validate = (schema: Schema, what: string): void => {
      const v = this.validator(schema);
      if (!v(e.body)) problems.push(`${label}: body is not a ConnectWise ${what}: ${this.ajv.errorsText(v.errors)} — ${JSON.stringify(e.body).slice(0, 300)}`);
    };
    if (!route) {
      // A path the simulator does not serve must still answer 404 in the vendor's error shape.
      if (e.status !== 404) return [`${label}: no simulator route answers it`];
      validate(this.vendor.errorSchema, 'ErrorResponseMessage');
      return problems;
    }
    const key = `${route.method} ${route.url}`;
    const extra = this.extraSchemas.get(key);
    if (e.status >= 400) {
      validate(this.vendor.errorSchema, 'ErrorResponseMessage');
    } else if (extra) {
      validate(extra, 'response');
    } else {
      const op = this.vendor.paths.get(blankParams(route.url.slice(API_PATH.length)))?.get(route.method.toLowerCase());
      if (!op) return [`${label}: ConnectWise's API has no ${route.method} ${route.url.slice(API_PATH.length)}`];
      let schema: Schema | null;
      try {
        schema = this.vendor.responseSchema(op, e.status);
      } catch (err) {
        return [`${label}: ${(err as Error).message}`];
      }
      if (schema) validate(schema, `${op.name} ${e.status} response`);
      else if (e.status === 204 && e.body !== '' && e.body !== undefined) problems.push(`${label}: 204 with a body`);
      else if (e.status !== 204 && !(e.contentType.startsWith('application/pdf') && String(e.body).startsWith('%PDF-')))
        problems.push(`${label}: ${op.name} declares no JSON body and this is not a PDF (${e.contentType})`);
    }
    if (problems.length === 0) this.covered.add(key);
    return problems;
  }

  /** Every simulator route (not /_sim) that no conforming exchange reached. */
  uncovered(): string[] {
    return this.routes.map((r) => `${r.method} ${r.url}`).filter((k) => !this.covered.has(k));
  }

  /** Routes the simulator registers that ConnectWise's API does not have. */
  notInVendorApi(): string[] {
    return this.routes
      .filter((r) => !this.extraSchemas.has(`${r.method} ${r.url}`))
      .filter((r) => !this.vendor.paths.get(blankParams(r.url.slice(API_PATH.length)))?.has(r.method.toLowerCase()))
      .map((r) => `${r.method} ${r.url}`);
  }
}
