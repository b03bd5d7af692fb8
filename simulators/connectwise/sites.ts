// Company sites: `/company/companies/{parentId}/sites` (GET list, GET count, GET one) — the client's
// addresses (2022.1 `CompanySite`). Read-only here: Settle reads a client's billing address, it
// never edits one.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ENTITIES } from './fields.ts';
import type { CwError } from './model.ts';
import { BadRequest, countRecords, listRecords, normalizeQuery } from './query.ts';
import type { ConnectWiseState } from './store.ts';

const err = (code: string, message: string): CwError => ({ code, message });

function idParam(value: string | undefined): number {
  if (!value || !/^\d+$/.test(value)) throw new BadRequest(`"${value ?? ''}" is not a valid id`, 'id');
  return Number(value);
}

export function registerSiteRoutes(api: FastifyInstance, state: ConnectWiseState, origin: () => string): void {
  const company = (reply: FastifyReply, raw: string | undefined): number | null => {
    const id = idParam(raw);
    if (!state.companies.get(id)) {
      void reply.code(404).send(err('NotFound', `Company with id ${id} not found`));
      return null;
    }
    return id;
  };
  const scoped = (companyId: number, conditions: string | undefined): string =>
    conditions ? `company/id = ${companyId} and (${conditions})` : `company/id = ${companyId}`;

  api.get('/company/companies/:parentId/sites', async (req, reply) => {
    const companyId = company(reply, (req.params as { parentId?: string }).parentId);
    if (companyId === null) return reply;
    const q = normalizeQuery(req.query as Record<string, unknown>);
    const res = listRecords(
      state.sites,
      { ...q, conditions: scoped(companyId, q.conditions) },
      { url: new URL(req.url, origin()), forwardOnly: false, entity: ENTITIES.companySite, indexPaths: ['company/id'] },
    );
    if (res.link) void reply.header('link', res.link);
    return res.body;
  });

  api.get('/company/companies/:parentId/sites/count', async (req, reply) => {
    const companyId = company(reply, (req.params as { parentId?: string }).parentId);
    if (companyId === null) return reply;
    const q = normalizeQuery(req.query as Record<string, unknown>);
    return { count: countRecords(state.sites, { ...q, conditions: scoped(companyId, q.conditions) }, ENTITIES.companySite, ['company/id']) };
  });

  api.get('/company/companies/:parentId/sites/:id', async (req, reply) => {
    const p = req.params as { parentId?: string; id?: string };
    const companyId = company(reply, p.parentId);
    if (companyId === null) return reply;
    const site = state.sites.get(idParam(p.id));
    if (!site || site.company.id !== companyId) return reply.code(404).send(err('NotFound', `CompanySite with id ${p.id} not found`));
    return site;
  });
}
