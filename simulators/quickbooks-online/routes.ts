// The vendor-facing data API: `/v3/company/{realmId}/…` — entity create/read/update/void/delete, `query`,
// `batch`, `cdc`, `companyinfo`, `preferences` — with bearer auth, `minorversion` (minor-version.ts),
// Intuit's throttles and `requestid` idempotency (docs: developer.intuit.com; specs/README.md §4). Response envelopes as QBO's JSON: {"Payment":{…},"time"}, {"QueryResponse":
// {"Invoice":[…],"startPosition","maxResults"},"time"}, {"BatchItemResponse":[…],"time"}, Fault bodies.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { faultBody, faults, gatewayAuthBody, QboFault, qboDateTime, schemaFields, throttleBody } from './faults.ts';
import type { QboLimits } from './limits.ts';
import type { TokenAuthority } from './oauth.ts';
import { executeQuery, parseQuery, type ParsedQuery } from './query.ts';
import { ENTITY_NAMES, entityFromPath, type EntityName, type QboStore } from './store.ts';
import { changeDataCapture } from './cdc.ts';
import { readCompanyInfo, readPreferences } from './company.ts';
import { isFilterable } from './filterable.ts';
import { minorVersionOf } from './minor-version.ts';
import { writeEntity } from './write.ts';

type Body = Record<string, unknown>;

// requestid limits (Intuit developer blog, "Request ID update for QuickBooks Online integration"):
// at most 50 characters, 36 for batch, and then each bId at most 10 characters.
export const REQUEST_ID_MAX = 50;
export const BATCH_REQUEST_ID_MAX = 36;
export const BATCH_BID_MAX_WITH_REQUEST_ID = 10;
// Intuit's batch page: at most 30 BatchItemRequest per call (an older page says 10).
export const BATCH_MAX_ITEMS = 30;

export interface ApiContext {
  readonly store: QboStore;
  readonly auth: TokenAuthority;
  readonly limits: QboLimits;
  /** realm:requestid → the original answer, replayed verbatim on a repeat. */
  readonly replays: Map<string, { status: number; body: unknown }>;
  readonly stats: { replayed: number; executed: number };
  /** "Process, then lose the answer": the unknown-outcome case the requestid exists for. */
  readonly lostAnswers: { pathPattern: string; times: number }[];
  readonly now: () => number;
}

const releases = new WeakMap<FastifyRequest, () => void>();
const REALM_PATH = /^\/v3\/company\/([^/?]+)(\/[^?]*)?/;

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json;charset=UTF-8').send(body);
}

export function registerApiRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.addContentTypeParser(['application/text', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  // Runs after the kit's fault hook: an injected fault answers before auth, as a gateway error would.
  app.addHook('onRequest', async (req, reply) => {
    const m = REALM_PATH.exec(req.url);
    if (!m) return;
    const check = ctx.auth.check(req.headers.authorization);
    if (!check.ok) return send(reply, 401, gatewayAuthBody(401, check.reason, ctx.now()));
    if (m[1] !== check.realmId) return send(reply, 403, gatewayAuthBody(403, `token is not authorised for company ${m[1]}`, ctx.now()));
    try {
      minorVersionOf((req.query as Record<string, string | string[] | undefined>)['minorversion']);
    } catch (e) {
      if (e instanceof QboFault) return send(reply, e.status, faultBody(e, ctx.now()));
      throw e;
    }
    const admission = ctx.limits.admit(m[1], check.clientId, (m[2] ?? '').startsWith('/batch'));
    if (!admission.ok) return send(reply, 429, throttleBody(ctx.now()));
    releases.set(req, admission.release);
  });
  app.addHook('onResponse', async (req) => releases.get(req)?.());
  app.addHook('onRequestAbort', async (req) => releases.get(req)?.());

  const realmOf = (req: FastifyRequest): string => (req.params as { realmId: string }).realmId;
  const requestIdOf = (req: FastifyRequest): string | undefined => (req.query as Record<string, string | undefined>)['requestid'];

  /** Run `exec` once per (realm, requestid); repeats get the stored answer. Faults are answers too. */
  function idempotent(req: FastifyRequest, reply: FastifyReply, maxLen: number, exec: () => { status: number; body: unknown }): FastifyReply {
    const rid = requestIdOf(req);
    if (rid !== undefined && rid.length > maxLen) {
      return send(reply, 400, faultBody(faults.requestIdTooLong(maxLen, rid.length), ctx.now()));
    }
    const key = rid === undefined ? undefined : `${realmOf(req)}:${rid}`;
    const earlier = key === undefined ? undefined : ctx.replays.get(key);
    let answer: { status: number; body: unknown };
    if (earlier) {
      ctx.stats.replayed += 1;
      answer = earlier;
    } else {
      ctx.stats.executed += 1;
      answer = exec();
      if (key !== undefined && answer.status < 500) ctx.replays.set(key, answer);
    }
    const lost = ctx.lostAnswers.find((r) => new RegExp(r.pathPattern).test(req.url.split('?')[0]!));
    if (lost) {
      lost.times -= 1;
      if (lost.times <= 0) ctx.lostAnswers.splice(ctx.lostAnswers.indexOf(lost), 1);
      releases.get(req)?.(); // no onResponse follows a destroyed socket
      req.raw.socket.destroy();
      return reply.hijack();
    }
    return send(reply, answer.status, answer.body);
  }

  const asAnswer = (fn: () => Body): { status: number; body: unknown } => {
    try {
      return { status: 200, body: { ...fn(), time: qboDateTime(ctx.now()) } };
    } catch (e) {
      if (e instanceof QboFault) return { status: e.status, body: faultBody(e, ctx.now()) };
      throw e;
    }
  };

  app.get('/v3/company/:realmId/query', async (req, reply) => {
    const q = (req.query as Record<string, string | undefined>)['query'];
    return idempotent(req, reply, REQUEST_ID_MAX, () => asAnswer(() => ({ QueryResponse: runQuery(ctx.store, q) })));
  });
  app.post('/v3/company/:realmId/query', async (req, reply) => {
    const q = typeof req.body === 'string' ? req.body : undefined;
    return idempotent(req, reply, REQUEST_ID_MAX, () => asAnswer(() => ({ QueryResponse: runQuery(ctx.store, q) })));
  });

  app.post('/v3/company/:realmId/batch', async (req, reply) => {
    const withRequestId = requestIdOf(req) !== undefined;
    return idempotent(req, reply, BATCH_REQUEST_ID_MAX, () => asAnswer(() => ({ BatchItemResponse: runBatch(ctx.store, req.body, withRequestId) })));
  });

  app.get('/v3/company/:realmId/cdc', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const answer = asAnswer(() => changeDataCapture(ctx.store, q['entities'], q['changedSince']));
    return send(reply, answer.status, answer.body);
  });

  app.get('/v3/company/:realmId/preferences', async (_req, reply) => {
    const answer = asAnswer(() => ({ Preferences: readPreferences(ctx.store) }));
    return send(reply, answer.status, answer.body);
  });

  app.post('/v3/company/:realmId/:entity', async (req, reply) => {
    const { entity: segment } = req.params as { entity: string };
    const q = req.query as Record<string, string | undefined>;
    const operation = q['operation'] ?? 'create';
    return idempotent(req, reply, REQUEST_ID_MAX, () =>
      asAnswer(() => {
        const entity = entityFromPath(segment);
        if (!entity) throw faults.unsupportedOperation(operation, segment);
        return { [entity]: writeEntity(ctx.store, entity, operation, req.body, q['include']) };
      }),
    );
  });

  app.get('/v3/company/:realmId/:entity/:id', async (req, reply) => {
    const { entity: segment, id } = req.params as { entity: string; id: string };
    const answer = asAnswer(() => {
      const entity = entityFromPath(segment);
      if (!entity) throw faults.unsupportedOperation('read', segment);
      if (entity === 'CompanyInfo') return { CompanyInfo: readCompanyInfo(ctx.store, id) };
      if (entity === 'Preferences') throw faults.unsupportedOperation('read by id (GET /preferences has none)', entity);
      return { [entity]: ctx.store.get(entity, id) };
    });
    return send(reply, answer.status, answer.body);
  });
}

/**
 * SELECT may name any property of the entity (XSD); WHERE and ORDERBY only the ones Intuit marks filterable
 * (filterable.ts) — PrivateNote, for one, is not, though SELECT * returns it.
 */
function checkQueryFields(entity: EntityName, q: ParsedQuery): void {
  for (const f of [...q.where.map((c) => c.field), ...q.orderBy.map((o) => o.field)]) {
    if (!isFilterable(entity, f)) throw faults.notQueryable(entity, f);
  }
  for (const f of q.select.kind === 'fields' ? q.select.fields : []) {
    const [head, sub, ...more] = f.split('.');
    const ok =
      head === 'MetaData'
        ? sub !== undefined && more.length === 0 && schemaFields('ModificationMetaData').has(sub)
        : sub === undefined && schemaFields(entity).has(head!);
    if (!ok) throw faults.queryValidation(`property '${f}' is not queryable on ${entity}`);
  }
}

export function runQuery(store: QboStore, text: string | undefined): Body {
  if (!text) throw faults.requiredParam('query');
  const q = parseQuery(text);
  const entity = ENTITY_NAMES.find((e) => e.toLowerCase() === q.entity.toLowerCase());
  if (!entity) throw faults.queryValidation(`the entity ${q.entity} is not supported by this simulator`);
  checkQueryFields(entity, q);
  const { rows, totalCount } = executeQuery(q, store.list(entity));
  if (q.select.kind === 'count') return { totalCount };
  if (rows.length === 0) return {}; // QBO answers an empty QueryResponse when nothing matches
  const selected = q.select.kind === 'fields' ? q.select.fields : null;
  const out = selected ? rows.map((r) => ({ ...Object.fromEntries(selected.filter((f) => f in r).map((f) => [f, r[f]])), domain: 'QBO', sparse: true })) : rows;
  return { [entity]: out, startPosition: q.startPosition, maxResults: rows.length };
}

/** IntuitBatchRequest: items run one after another and do not see each other's results' ids. */
export function runBatch(store: QboStore, body: unknown, withRequestId: boolean): Body[] {
  const items = (body as Body | null)?.['BatchItemRequest'];
  if (!Array.isArray(items) || items.length === 0) throw faults.requiredParam('BatchItemRequest');
  if (items.length > BATCH_MAX_ITEMS) throw faults.batchTooLarge(items.length, BATCH_MAX_ITEMS);
  const seen = new Set<string>();
  for (const item of items as Body[]) {
    const bId = item['bId'];
    if (typeof bId !== 'string' || bId === '') throw faults.requiredParam('BatchItemRequest.bId');
    if (seen.has(bId)) throw faults.invalidValue('bId', `bId ${bId} is used twice in one batch`);
    seen.add(bId);
    if (withRequestId && bId.length > BATCH_BID_MAX_WITH_REQUEST_ID) {
      throw faults.invalidValue('bId', `with a requestid, each bId can have at most ${BATCH_BID_MAX_WITH_REQUEST_ID} characters; ${bId} has ${bId.length}`);
    }
  }
  return (items as Body[]).map((item) => {
    const bId = item['bId'] as string;
    try {
      if (typeof item['Query'] === 'string') return { QueryResponse: runQuery(store, item['Query']), bId };
      const keys = Object.keys(item).filter((k) => k !== 'bId' && k !== 'operation' && k !== 'optionsData');
      const entity = keys.length === 1 ? ENTITY_NAMES.find((e) => e === keys[0]) : undefined;
      if (!entity) throw faults.invalidValue('BatchItemRequest', `each item needs exactly one entity or Query; got ${keys.join(', ') || 'none'}`);
      const operation = item['operation'];
      if (typeof operation !== 'string') throw faults.requiredParam('BatchItemRequest.operation');
      return { [entity]: writeEntity(store, entity, operation, item[entity]), bId };
    } catch (e) {
      if (e instanceof QboFault) return { Fault: e.toFault(), bId };
      throw e;
    }
  });
}
