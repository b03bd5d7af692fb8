// Company sites: `/company/companies/{parentId}/sites` (GET list, GET count, GET one) — the client's
// addresses (2022.1 `CompanySite`). Read-only here: Settle reads a client's billing address, it
// never edits one.
import type { FastifyInstance } from 'fastify';
import { ENTITIES } from './fields.ts';
import { registerCompanyChildReads } from './company-children.ts';
import type { ConnectWiseState } from './store.ts';

export function registerSiteRoutes(api: FastifyInstance, state: ConnectWiseState, origin: () => string): void {
  registerCompanyChildReads(api, state, origin, { path: 'sites', table: state.sites, entity: ENTITIES.companySite, typeName: 'CompanySite' });
}
