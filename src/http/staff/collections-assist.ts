// Collections Assist's staff pages, registered from index.ts with one line: sequences and steps
// (collections.ts), results, holds and the statement PDF (collections-results.ts).
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';
import { registerCollectionsRoutes } from './collections.ts';
import { registerCollectionsResultsRoutes } from './collections-results.ts';

export function registerCollectionsAssistRoutes(app: FastifyInstance, deps: HttpDeps): void {
  registerCollectionsRoutes(app, deps);
  registerCollectionsResultsRoutes(app, deps);
}
