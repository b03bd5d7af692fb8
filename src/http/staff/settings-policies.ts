// The workspace-policy settings pages, registered together by one line in index.ts: the card surcharge
// (settings-surcharge.ts), the retry policy for declined payments (settings-retry-policy.ts) and the
// workspace's timezone (settings-workspace.ts). Each is listed in SETTINGS_PAGES (settings.ts). With them, a
// client's surcharge location and exemption (client-surcharge.ts), linked from the client page.
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';
import { registerClientSurchargeRoutes } from './client-surcharge.ts';
import { registerRetryPolicySettingsRoutes } from './settings-retry-policy.ts';
import { registerSurchargeSettingsRoutes } from './settings-surcharge.ts';
import { registerWorkspaceSettingsRoutes } from './settings-workspace.ts';

export function registerPolicySettingsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  registerSurchargeSettingsRoutes(app, deps);
  registerRetryPolicySettingsRoutes(app, deps);
  registerWorkspaceSettingsRoutes(app, deps);
  registerClientSurchargeRoutes(app, deps);
}
