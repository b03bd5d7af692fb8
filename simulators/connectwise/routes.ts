// The vendor-facing routes: ConnectWise Manage REST under /v4_6_release/apis/3.0, with its auth
// (Basic `companyId+publicKey:privateKey` plus a `clientId` header), error bodies (`code`, `message`,
// `errors[]`) and list semantics (query.ts). Also the callback signing-key URL, which ConnectWise
// serves without API credentials so that any receiver can verify a callback.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiter } from '../kit.ts';
import { KEY_PATH, type CallbackDispatcher } from './callbacks.ts';
import { ENTITIES, MisplacedField, UnknownField, type EntityFields } from './fields.ts';
import { cwTimestamp, type CwCallbackEntry, type CwError, type CwSystemInfo } from './model.ts';
import { registerCustomFieldControl, registerInvoiceCustomFields } from './custom-fields.ts';
import { registerCompanyNoteRoutes } from './notes.ts';
import { registerPaymentRoutes } from './payments.ts';
import { invoicePdf } from './pdf.ts';
import { BadRequest, countRecords, listRecords, normalizeQuery } from './query.ts';
import { registerSiteRoutes } from './sites.ts';
import type { ConnectWiseState } from './store.ts';
import type { Table } from './table.ts';

export const API_PATH = '/v4_6_release/apis/3.0';

export interface Credentials {
  readonly companyId: string;
  readonly publicKey: string;
  readonly privateKey: string;
  readonly clientId: string;
}

export interface RouteContext {
  readonly state: ConnectWiseState;
  readonly callbacks: CallbackDispatcher;
  readonly credentials: Credentials;
  readonly origin: () => string;
  readonly rateLimiter: () => RateLimiter | null;
}

const err = (code: string, message: string, errors?: CwError['errors']): CwError => ({ code, message, ...(errors ? { errors } : {}) });

function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(401).send(err('Unauthorized', message, []));
}

function checkAuth(req: FastifyRequest, reply: FastifyReply, creds: Credentials): FastifyReply | null {
  const clientId = req.headers['clientid'];
  if (typeof clientId !== 'string' || clientId.length === 0) {
    return unauthorized(reply, 'A clientId header is required on every request (see developer.connectwise.com/ClientID).');
  }
  if (clientId !== creds.clientId) return unauthorized(reply, 'The clientId is not recognised.');
  const auth = req.headers.authorization ?? '';
  const m = /^Basic\s+(.+)$/i.exec(auth);
  if (!m) return unauthorized(reply, 'Basic authentication with companyId+publicKey:privateKey is required.');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const pass = colon < 0 ? '' : decoded.slice(colon + 1);
  const plus = user.indexOf('+');
  const company = plus < 0 ? '' : user.slice(0, plus);
  const publicKey = plus < 0 ? user : user.slice(plus + 1);
  if (company.toLowerCase() !== creds.companyId.toLowerCase() || publicKey !== creds.publicKey || pass !== creds.privateKey) {
    return unauthorized(reply, 'Invalid credentials: the company, public key or private key is wrong.');
  }
  return null;
}

function idParam(value: string | undefined): number {
  if (!value || !/^\d+$/.test(value)) throw new BadRequest(`"${value ?? ''}" is not a valid id`, 'id');
  return Number(value);
}

function requestUrl(req: FastifyRequest, origin: string): URL {
  return new URL(req.url, origin);
}

/** What `/system/info` answers (a cloud site on the 2022.1 API; the version is the simulator's). */
export const SYSTEM_INFO: CwSystemInfo = {
  version: 'v2022.1.70000',
  isCloud: true,
  serverTimeZone: 'Eastern Standard Time',
  licenseBits: [{ name: 'Finance', activeFlag: true }],
  cloudRegion: 'NA',
};

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { state } = ctx;

  app.setErrorHandler((e, _req, reply) => {
    // As users of the real API report it: `--> ApiFindCondition --> typeids is not a recognized name.`
    if (e instanceof UnknownField || e instanceof MisplacedField) return reply.code(400).send(err(e.code, e.message));
    if (e instanceof BadRequest)
      return reply
        .code(400)
        .send(err('InvalidObject', e.message, e.field ? [{ code: 'InvalidField', message: e.message, resource: 'query', field: e.field }] : []));
    if ((e as { statusCode?: number }).statusCode === 400) return reply.code(400).send(err('InvalidObject', (e as Error).message, []));
    return reply.code(500).send(err('UnexpectedServerError', (e as Error).message));
  });

  registerCustomFieldControl(app, state);
  app.get(KEY_PATH, async (req, reply) => {
    const id = (req.query as Record<string, string | undefined>).id ?? '';
    const key = ctx.callbacks.keyFor(id);
    if (!key) return reply.code(404).send(err('NotFound', 'Unknown callback key.'));
    return { signing_key: key };
  });

  void app.register(
    async (api) => {
      // Fields with no value are left out, as ConnectWise serialises (model.ts withoutNulls says why);
      // done while serialising, which costs far less than copying every body first.
      api.setReplySerializer((payload) => JSON.stringify(payload, (_key, value: unknown) => (value === null ? undefined : value)));
      // A path or method the API does not have answers in ConnectWise's error shape, not Fastify's.
      api.setNotFoundHandler((req, reply) =>
        reply.code(404).send(err('NotFound', `The resource ${req.method} ${req.url.split('?')[0]!.slice(API_PATH.length)} does not exist.`)),
      );
      api.addHook('preHandler', async (req, reply) => {
        const denied = checkAuth(req, reply, ctx.credentials);
        if (denied) return denied;
        const limiter = ctx.rateLimiter();
        if (limiter) {
          const r = limiter.take(ctx.credentials.clientId);
          if (!r.ok) {
            return reply
              .code(429)
              .header('retry-after', String(Math.ceil(r.retryAfterMs / 1000)))
              .send(err('TooManyRequests', 'API request limit reached; retry after the Retry-After interval.'));
          }
        }
        return undefined;
      });

      const collection = <T extends { id: number }>(path: string, table: Table<T>, entity: EntityFields, indexPaths: readonly string[] = []): void => {
        const name = entity.name;
        api.get(path, async (req, reply) => {
          const q = normalizeQuery(req.query as Record<string, unknown>);
          const forwardOnly = String(req.headers['pagination-type'] ?? '').toLowerCase() === 'forward-only';
          const res = listRecords(table, q, { url: requestUrl(req, ctx.origin()), forwardOnly, entity, indexPaths });
          if (res.link) void reply.header('link', res.link);
          return res.body;
        });
        api.get(`${path}/count`, async (req) => ({
          count: countRecords(table, normalizeQuery(req.query as Record<string, unknown>), entity, indexPaths),
        }));
        api.get(`${path}/:id`, async (req, reply) => {
          const id = idParam((req.params as { id?: string }).id);
          const row = table.get(id);
          if (!row) return reply.code(404).send(err('NotFound', `${name} with id ${id} not found`));
          return row;
        });
      };

      collection('/company/companies', state.companies, ENTITIES.company);
      collection('/company/contacts', state.contacts, ENTITIES.contact, ['company/id']);
      collection('/finance/invoices', state.invoices, ENTITIES.invoice);
      collection('/procurement/products', state.products, ENTITIES.productItem, ['invoice/id']);
      collection('/time/entries', state.timeEntries, ENTITIES.timeEntry, ['invoice/id']);
      collection('/expense/entries', state.expenses, ENTITIES.expenseEntry, ['invoice/id']);
      collection('/finance/agreements', state.agreements, ENTITIES.agreement, ['company/id']);

      api.get('/finance/invoices/:id/pdf', async (req, reply) => {
        const id = idParam((req.params as { id?: string }).id);
        const invoice = state.invoices.get(id);
        if (!invoice) return reply.code(404).send(err('NotFound', `Invoice with id ${id} not found`));
        return reply.type('application/pdf').header('content-disposition', `attachment; filename="${invoice.invoiceNumber}.pdf"`).send(invoicePdf(invoice));
      });

      api.get('/system/info', async () => SYSTEM_INFO);

      registerPaymentRoutes(api, state, ctx.origin);
      registerInvoiceCustomFields(api, state);
      registerSiteRoutes(api, state, ctx.origin);

      registerCompanyNoteRoutes(api, state, ctx.origin);

      collection('/system/callbacks', state.callbacks, ENTITIES.callbackEntry);

      api.post('/system/callbacks', async (req, reply) => {
        const b = (req.body ?? {}) as Record<string, unknown>;
        const problems: NonNullable<CwError['errors']> = [];
        const need = (field: string, ok: boolean, message: string): void => {
          if (!ok) problems.push({ code: 'InvalidField', message, resource: 'callbackEntry', field });
        };
        let urlOk = false;
        try {
          urlOk = typeof b.url === 'string' && /^https?:$/.test(new URL(b.url).protocol);
        } catch {
          urlOk = false;
        }
        need('url', urlOk, 'url must be an http(s) URL.');
        need('type', typeof b.type === 'string' && b.type.length > 0, 'type is required.');
        need('level', typeof b.level === 'string' && b.level.length > 0, 'level is required.');
        need('objectId', b.objectId === undefined || Number.isInteger(b.objectId), 'objectId must be a whole number.');
        if (problems.length > 0) return reply.code(400).send(err('InvalidObject', 'callbackEntry object is invalid', problems));
        const stamp = state.now();
        const entry: CwCallbackEntry = state.callbacks.insert({
          id: state.callbacks.nextId(),
          description: typeof b.description === 'string' ? b.description : '',
          url: b.url as string,
          objectId: typeof b.objectId === 'number' ? b.objectId : 0,
          type: b.type as string,
          level: b.level as string,
          memberId: typeof b.memberId === 'number' ? b.memberId : 0,
          payloadVersion: typeof b.payloadVersion === 'string' ? b.payloadVersion : null,
          inactiveFlag: b.inactiveFlag === true,
          isSoapCallbackFlag: b.isSoapCallbackFlag === true,
          isSelfSuppressedFlag: b.isSelfSuppressedFlag === true,
          _info: { lastUpdated: stamp, updatedBy: state.apiMember },
        });
        return reply.code(201).send(entry);
      });

      api.delete('/system/callbacks/:id', async (req, reply) => {
        const id = idParam((req.params as { id?: string }).id);
        if (!state.callbacks.remove(id)) return reply.code(404).send(err('NotFound', `CallbackEntry with id ${id} not found`));
        return reply.code(204).send();
      });
    },
    { prefix: API_PATH },
  );
}
