// The staff app (/app/…): server-rendered Eta views in one layout (view.ts), htmx and Chart.js from /assets.
// server.ts calls registerStaffApp once. Each area registers its routes from its own file
// (src/http/staff/<area>.ts exporting register<Area>Routes(app, deps)) with ONE line below, adds ONE entry to
// nav.ts, and its routes to http/permissions.ts.
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';
import { registerAssetRoutes } from './assets.ts';
import { registerOverviewRoutes, registerHomeFallback } from './overview.ts';
import { provideStaffDeps } from './view.ts';
import { registerPaymentsRoutes } from './payments.ts';
import { registerAutopayRoutes } from './autopay.ts';
import { registerPayoutsRoutes } from './payouts.ts';
import { registerAutopayRuleRoutes } from './autopay-rules.ts';
import { registerInstallmentRoutes } from './installments.ts';
import { registerArDashboardRoutes } from './dashboard.ts';
import { registerRolloutRoutes } from './rollout.ts';
import { registerAttentionRoutes } from './attention.ts';
import { registerConnectionsRoutes } from './connections.ts';
import { registerQbdQwcRoutes } from './qbd-qwc.ts';
import { registerXeroOAuthRoutes } from './xero-oauth.ts';
import { registerSettingsRoutes } from './settings.ts';
import { registerInvoicesRoutes } from './invoices.ts';
import { registerInvoicePayLinkRoutes } from './invoice-pay-link.ts';
import { registerOpenPayLinksRoutes } from './pay-links-open.ts';
import { registerClientsRoutes } from './clients.ts';
import { registerInstallmentOfferRoutes } from './settings-installments.ts';
import { registerBrandingRoutes } from './settings-branding.ts';
import { registerPolicySettingsRoutes } from './settings-policies.ts';
import { registerAuditLogRoutes } from './audit-log.ts';
import { registerEmailTemplateRoutes } from './settings-emails.ts';
import { registerGlRulesRoutes } from './settings-gl-rules.ts';
import { registerReconciliationRoutes } from './reconciliation.ts';
import { registerWebhookSettingsRoutes } from './webhooks.ts';
import { registerCollectionsAssistRoutes } from './collections-assist.ts';

export function registerStaffApp(app: FastifyInstance, deps: HttpDeps): void {
  provideStaffDeps(app, deps);
  registerAssetRoutes(app);
  registerOverviewRoutes(app, deps);
  // ---- areas: one line each ----
  registerPaymentsRoutes(app, deps);
  registerAutopayRoutes(app, deps);
  registerPayoutsRoutes(app, deps);
  registerAutopayRuleRoutes(app, deps);
  registerInstallmentRoutes(app, deps);
  registerArDashboardRoutes(app, deps);
  registerRolloutRoutes(app, deps);
  registerAttentionRoutes(app, deps);
  registerConnectionsRoutes(app, deps);
  registerQbdQwcRoutes(app, deps);
  registerXeroOAuthRoutes(app, deps);
  registerSettingsRoutes(app, deps);
  registerInvoicesRoutes(app, deps);
  registerInvoicePayLinkRoutes(app, deps);
  registerOpenPayLinksRoutes(app, deps);
  registerClientsRoutes(app, deps);
  registerInstallmentOfferRoutes(app, deps);
  registerBrandingRoutes(app, deps);
  registerPolicySettingsRoutes(app, deps);
  registerAuditLogRoutes(app, deps);
  registerEmailTemplateRoutes(app, deps);
  registerGlRulesRoutes(app, deps);
  registerReconciliationRoutes(app, deps);
  registerWebhookSettingsRoutes(app, deps);
  registerCollectionsAssistRoutes(app, deps);

  // Last: GET /app shows the overview until an area (the dashboard) registers GET /app itself.
  registerHomeFallback(app, deps);
}
