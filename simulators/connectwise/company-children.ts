// The read routes every record that hangs off a company shares — `/company/companies/{parentId}/<child>`:
// list (conditions scoped to the company, paging by Link header), count, and one by id — with ConnectWise's
// 404 for an unknown company or a record of another company. Sites and notes use it (notes add their POST).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EntityFields } from './fields.ts';
import type { CwError } from './model.ts';
import { BadRequest, countRecords, listRecords, normalizeQuery } from './query.ts';
import type { ConnectWiseState } from './store.ts';
import type { Table } from './table.ts';

export const cwError = (code: string, message: string, errors?: CwError['errors']): CwError => ({ code, message, ...(errors ? { errors } : {}) });

export function idParam(value: string | undefined): number {
  if (!value || !/^\d+$/.test(value)) throw new BadRequest(`"${value ?? ''}" is not a valid id`, 'id');
  return Number(value);
}

/** The company named by the path, or null after answering 404 as ConnectWise does. */
export function companyOf(state: ConnectWiseState, reply: FastifyReply, raw: string | undefined): number | null {
  const id = idParam(raw);
  if (!state.companies.get(id)) {
    void reply.code(404).send(cwError('NotFound', `Company with id ${id} not found`));
    return null;
  }
  return id;
}

export function registerCompanyChildReads<T extends { id: number; company: { id: number } }>(
  api: FastifyInstance,
  state: ConnectWiseState,
  origin: () => string,
  child: { readonly path: string; readonly table: Table<T>; readonly entity: EntityFields; readonly typeName: string },
): void {
  const scoped = (companyId: number, conditions: string | undefined): string =>
    conditions ? `company/id = ${companyId} and (${conditions})` : `company/id = ${companyId}`;
  const base = `/company/companies/:parentId/${child.path}`;

  api.get(base, async (req, reply) => {
    const companyId = companyOf(state, reply, (req.params as { parentId?: string }).parentId);
    if (companyId === null) return reply;
    const q = normalizeQuery(req.query as Record<string, unknown>);
    const res = listRecords(
      child.table,
      { ...q, conditions: scoped(companyId, q.conditions) },
      { url: new URL(req.url, origin()), forwardOnly: false, entity: child.entity, indexPaths: ['company/id'] },
    );
    if (res.link) void reply.header('link', res.link);
    return res.body;
  });

  api.get(`${base}/count`, async (req, reply) => {
    const companyId = companyOf(state, reply, (req.params as { parentId?: string }).parentId);
    if (companyId === null) return reply;
    const q = normalizeQuery(req.query as Record<string, unknown>);
    return { count: countRecords(child.table, { ...q, conditions: scoped(companyId, q.conditions) }, child.entity, ['company/id']) };
  });

  api.get(`${base}/:id`, async (req, reply) => {
    const p = req.params as { parentId?: string; id?: string };
    const companyId = companyOf(state, reply, p.parentId);
    if (companyId === null) return reply;
    const record = child.table.get(idParam(p.id));
    if (!record || record.company.id !== companyId) return reply.code(404).send(cwError('NotFound', `${child.typeName} with id ${p.id} not found`));
    return record;
  });
}
