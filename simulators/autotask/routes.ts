// The vendor-facing routes. Zone discovery lives on the global host (`/ATServicesRest/V1.0/ZoneInformation`,
// no credentials); everything else only under the zone's base URL, with the three headers ApiIntegrationCode,
// UserName and Secret (401 otherwise), the rolling-hour threshold and the per-endpoint thread limit (429),
// and the vendor's error body `{"errors":[…]}`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { jsonName, singular, type EntityDef } from './fields.ts';
import { QueryError } from './filter.ts';
import type { ApiLimits } from './limits.ts';
import { countQuery, decodePaging, entityOrThrow, parseQueryModel, present, runQuery } from './query.ts';
import type { AutotaskState } from './store.ts';
import { createRecord, updateRecord } from './writes.ts';
import { textPdf } from '../text-pdf.ts';

export const GLOBAL_PATH = '/ATServicesRest';
export const ZONE_PATH = '/zone15/ATServicesRest';

export interface Credentials {
  readonly integrationCode: string;
  readonly username: string;
  readonly secret: string;
}

export interface RouteContext {
  readonly state: AutotaskState;
  readonly limits: ApiLimits;
  readonly credentials: Credentials;
  readonly origin: () => string;
}

export const errors = (...messages: string[]): { errors: string[] } => ({ errors: messages });

function header(req: FastifyRequest, name: string): string {
  const v = req.headers[name.toLowerCase()];
  return typeof v === 'string' ? v : '';
}

function authError(req: FastifyRequest, c: Credentials): string | null {
  const code = header(req, 'ApiIntegrationCode');
  const user = header(req, 'UserName');
  const secret = header(req, 'Secret');
  if (!code || !user || !secret) return 'The ApiIntegrationCode, UserName and Secret headers are required.';
  if (code !== c.integrationCode) return 'The ApiIntegrationCode is not valid.';
  if (user.toLowerCase() !== c.username.toLowerCase() || secret !== c.secret) return 'The UserName or Secret is not valid.';
  return null;
}

/** The object endpoint a request counts against for the thread limit (`/V1.0/Invoices/query` → invoices). */
export function endpointOf(path: string): string {
  const m = /\/V1\.0\/([^/?]+)/i.exec(path);
  return (m?.[1] ?? '').toLowerCase();
}

function requireAll(entity: EntityDef, body: unknown): void {
  const keys = new Set(Object.keys(body && typeof body === 'object' ? body : {}).map((k) => k.toLowerCase()));
  const missing = entity.fields.filter((f) => f.isRequired && !keys.has(f.name.toLowerCase()));
  if (missing.length > 0) throw new QueryError(`Field ${missing[0]!.name} of the ${singular(entity)} entity is required.`);
}

function fail(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof QueryError) return reply.code(500).send(errors(e.message));
  throw e;
}

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { state, limits, credentials } = ctx;

  app.get(`${GLOBAL_PATH}/V1.0/ZoneInformation`, async (req, reply) => {
    const user = (req.query as { user?: string }).user ?? '';
    if (!user) return reply.code(500).send(errors('The user parameter is required.'));
    if (user.toLowerCase() !== credentials.username.toLowerCase()) return reply.code(404).send(errors(`Zone information could not be found for user ${user}.`));
    return { zoneName: 'America West 15', url: `${ctx.origin()}${ZONE_PATH}/`, webUrl: `${ctx.origin()}/Autotask/`, ci: 15 };
  });
  // The global host answers nothing but zone discovery: a client that skipped it gets no data.
  app.all(`${GLOBAL_PATH}/V1.0/*`, async (_req, reply) => reply.code(404).send(errors('Resolve the zone with /V1.0/ZoneInformation and call that zone.')));

  // Credentials, then the threshold, then the thread limit; the in-flight count drops when the answer is sent.
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? req.url;
    if (!path.startsWith(ZONE_PATH)) return;
    const why = authError(req, credentials);
    if (why) return reply.code(401).send(errors(why));
    if (!limits.takeHourly()) {
      return reply
        .code(429)
        .send(errors(`The request threshold of ${limits.limit} requests per ${limits.timeframeMs / 60_000} minutes for this database has been exceeded.`));
    }
    const endpoint = endpointOf(path);
    if (!limits.enter(endpoint)) {
      return reply.code(429).send(errors(`Thread limit exceeded: at most ${limits.threadLimit} concurrent requests to the ${endpoint} endpoint are allowed.`));
    }
    reply.raw.once('close', () => limits.leave(endpoint));
    const delay = limits.latencyMs();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  });

  const V = `${ZONE_PATH}/V1.0`;
  app.get(`${V}/ThresholdInformation`, async () => ({
    externalRequestThreshold: limits.limit,
    requestThresholdTimeframe: limits.timeframeMs / 60_000,
    currentTimeframeRequestCount: limits.count(),
  }));

  const nextUrl = (entity: string) => (token: string) => `${ctx.origin()}${V}/${entity}/query/next?paging=${token}`;
  const searchOf = (req: FastifyRequest): unknown => {
    const s = (req.query as { search?: string }).search;
    if (!s) throw new QueryError('The search parameter is required.');
    try {
      return JSON.parse(s);
    } catch {
      throw new QueryError('The search parameter is not valid JSON.');
    }
  };

  const query = (body: (req: FastifyRequest) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const entity = entityOrThrow((req.params as { entity: string }).entity);
      return runQuery(state, entity, parseQueryModel(entity, body(req)), 0, nextUrl(entity.name));
    } catch (e) {
      return fail(reply, e);
    }
  };
  app.post(
    `${V}/:entity/query`,
    query((req) => req.body),
  );
  app.get(`${V}/:entity/query`, query(searchOf));
  app.get(`${V}/:entity/query/next`, async (req, reply) => {
    try {
      const t = decodePaging((req.query as { paging?: string }).paging);
      const entity = entityOrThrow((req.params as { entity: string }).entity);
      if (entity.name !== t.e) throw new QueryError('The paging parameter belongs to another entity.');
      return runQuery(
        state,
        entity,
        parseQueryModel(entity, { Filter: t.q.filter, IncludeFields: t.q.includeFields, MaxRecords: t.q.maxRecords }),
        t.a,
        nextUrl(entity.name),
      );
    } catch (e) {
      return fail(reply, e);
    }
  });
  const count = (body: (req: FastifyRequest) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const entity = entityOrThrow((req.params as { entity: string }).entity);
      const q = parseQueryModel(entity, body(req));
      return countQuery(state, entity, q.filter);
    } catch (e) {
      return fail(reply, e);
    }
  };
  app.post(
    `${V}/:entity/query/count`,
    count((req) => req.body),
  );
  app.get(`${V}/:entity/query/count`, count(searchOf));

  app.get(`${V}/:entity/entityInformation`, async (req, reply) => {
    try {
      const e = entityOrThrow((req.params as { entity: string }).entity);
      return {
        info: {
          name: singular(e),
          canCreate: e.canCreate,
          canDelete: e.canDelete,
          canQuery: true,
          canUpdate: e.canUpdate,
          hasUserDefinedFields: false,
          supportsWebhookCallouts: e.supportsWebhookCallouts,
        },
      };
    } catch (e) {
      return fail(reply, e);
    }
  });
  app.get(`${V}/:entity/entityInformation/fields`, async (req, reply) => {
    try {
      const e = entityOrThrow((req.params as { entity: string }).entity);
      return {
        fields: e.fields.map((f) => ({
          name: jsonName(f.name),
          dataType: f.dataType,
          length: f.dataType === 'string' ? (f.name === 'Note' ? 32000 : 250) : 0,
          isRequired: f.isRequired,
          isReadOnly: f.isReadOnly,
          isQueryable: f.isQueryable,
          isReference: Boolean(f.referenceEntityType),
          referenceEntityType: f.referenceEntityType ?? '',
          isPickList: Boolean(f.picklist),
          picklistValues: f.picklist ? f.picklist.map((p, i) => ({ ...p, isDefaultValue: false, sortOrder: i, parentValue: '', isSystem: true })) : null,
          picklistParentValueField: '',
          isSupportedWebhookField: Boolean(f.webhook),
        })),
      };
    } catch (e) {
      return fail(reply, e);
    }
  });

  // No simulated entity has user-defined fields (the Invoice entity has none at the vendor either): the list
  // is empty, and a write naming one is refused (writes.ts).
  app.get(`${V}/:entity/entityInformation/userDefinedFields`, async (req, reply) => {
    try {
      entityOrThrow((req.params as { entity: string }).entity);
      return { fields: [] };
    } catch (e) {
      return fail(reply, e);
    }
  });

  // `GET /V1.0/InvoicePDF/{id}` (InvoicePDF_QueryItem): the spec declares `id` as a path parameter but leaves it
  // out of the URL (specs/README.md), so it is taken as a path segment here. The answer is InvoicePDFModel —
  // Id, contentType, fileName, fileSize and the file as base64 `data`.
  app.get(`${V}/InvoicePDF/:id`, async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!/^\d+$/.test(id)) return reply.code(500).send(errors(`"${id}" is not a valid id.`));
    const inv = state.table('Invoices').get(Number(id));
    if (!inv) return reply.code(500).send(errors(`Invoice ${id} was not found.`));
    const company = state.table('Companies').get(Number(inv['CompanyID']));
    const pdf = textPdf([
      `Invoice ${String(inv['InvoiceNumber'])}`,
      `Bill to: ${String(company?.['CompanyName'] ?? '')}`,
      `Date: ${String(inv['InvoiceDateTime']).slice(0, 10)}   Due: ${String(inv['DueDate'] ?? '').slice(0, 10)}`,
      `Total: ${Number(inv['InvoiceTotal']).toFixed(2)}`,
    ]);
    return {
      Id: Number(id),
      contentType: 'application/pdf',
      fileName: `Invoice_${String(inv['InvoiceNumber'])}.pdf`,
      fileSize: pdf.length,
      data: pdf.toString('base64'),
    };
  });

  app.get(`${V}/:entity/:id`, async (req, reply) => {
    try {
      const { entity: name, id } = req.params as { entity: string; id: string };
      const e = entityOrThrow(name);
      if (!/^\d+$/.test(id)) throw new QueryError(`"${id}" is not a valid id.`);
      const row = state.table(e.name).get(Number(id));
      // The vendor answers a missing id with 200 and `item: null`.
      return { item: row ? present(e, row) : null };
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.post(`${V}/:entity`, async (req, reply) => {
    try {
      const e = entityOrThrow((req.params as { entity: string }).entity);
      const extra = e.name === 'CompanyNotes' ? { CreateDateTime: state.now(), LastModifiedDate: state.now() } : {};
      const hook = e.name === 'CompanyWebhooks' ? { IsReady: true, WebhookGUID: crypto.randomUUID() } : {};
      const row = createRecord(state, e, req.body, { ...extra, ...hook });
      if (e.name === 'Companies') Object.assign(row, { CreateDate: state.now(), LastTrackedModifiedDateTime: state.now(), IsActive: row.IsActive ?? true });
      return { itemId: row.Id };
    } catch (e) {
      return fail(reply, e);
    }
  });
  const update = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const e = entityOrThrow((req.params as { entity: string }).entity);
      // PUT replaces the entity: every required field must be sent (PATCH sends only what changes).
      if (req.method === 'PUT') requireAll(e, req.body);
      const { row, changed } = updateRecord(state, e, req.body);
      if (e.name === 'CompanyNotes') row.LastModifiedDate = state.now();
      if (e.name === 'Contacts') row.LastModifiedDate = state.now();
      if (e.name === 'Companies') {
        row.LastTrackedModifiedDateTime = state.now();
        state.onCompanyChange?.('Update', row, changed);
      }
      return { itemId: row.Id };
    } catch (e) {
      return fail(reply, e);
    }
  };
  app.patch(`${V}/:entity`, update);
  app.put(`${V}/:entity`, update);
  app.delete(`${V}/:entity/:id`, async (req, reply) => {
    try {
      const { entity: name, id } = req.params as { entity: string; id: string };
      const e = entityOrThrow(name);
      if (!e.canDelete) throw new QueryError(`The ${singular(e)} entity does not support delete.`);
      if (!state.table(e.name).delete(Number(id))) throw new QueryError(`${singular(e)} with id ${id} does not exist.`);
      return { itemId: Number(id) };
    } catch (e) {
      return fail(reply, e);
    }
  });
}
