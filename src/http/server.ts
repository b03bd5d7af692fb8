// The HTTP side of Settle: REST API under /api/v1 (OpenAPI at /api/docs), vendor webhooks, the client
// portal and the staff dashboard, plus health and metrics.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { HttpDeps } from './deps.ts';
import { errorHandler } from './errors.ts';
import { identifyApiKey, unauthorized } from './auth.ts';
import { rateLimitsFromEnv, registerRateLimits } from './rate-limits.ts';
import { registerCsrfProtection } from './csrf.ts';
import { registerHealthRoutes } from './health.ts';
import { enforcePermissions } from './authorize.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { registerServerTiming } from './server-timing.ts';
import { registerBadInputGuards } from './bad-input.ts';
import { registerInvoiceRoutes } from './api/invoices.ts';
import { registerPaymentRoutes } from './api/payments.ts';
import { registerClientRoutes } from './api/clients.ts';
import { registerActivityRoutes } from './api/activity.ts';
import { registerLifecycleRoutes } from './api/lifecycle.ts';
import { registerAutopayRoutes } from './api/autopay.ts';
import { registerWebhookRoutes } from './webhooks/routes.ts';
import { registerWebConnectorRoutes } from './webhooks/qbwc.ts';
import { registerPortalRoutes } from './portal/pages.ts';
import { registerUpdateMethodRoutes } from './portal/update-method.ts';
import { registerExceptionRoutes } from './api/exceptions.ts';
import { registerPostingRoutes } from './api/postings.ts';
import { registerRetryPolicyRoutes } from './api/retry-policy.ts';
import { registerReportRoutes } from './api/reports.ts';
import { registerCashForecastRoutes } from './api/cash-forecast.ts';
import { registerDashboardRoutes } from './dashboard/pages.ts';
import { registerApiKeyPages } from './dashboard/api-keys.ts';
import { registerStaffApp } from './staff/index.ts';
import { registerCollectionRoutes } from './api/collections.ts';
import { registerCollectionsAssistRoutes } from './api/collections-assist.ts';
import { registerSurchargeRoutes } from './api/surcharge.ts';
import { registerPortalCollectionRoutes } from './portal/collections.ts';
import { registerBankAchPortalRoutes } from './portal/bank-ach.ts';
import { registerInstallmentOfferPortalRoutes } from './portal/installment-offer.ts';
import { registerCollectionsPortalRoutes } from './portal/collections-assist.ts';
import { registerPayLinkRoutes } from './portal/pay-link.ts';
import { registerPortalAccountRoutes } from './portal/account-routes.ts';
import { registerBankAchRoutes } from './api/bank-ach.ts';
import { registerPortalFramingRoutes } from './api/portal-framing.ts';
import { registerApiKeyRoutes } from './api/api-keys.ts';
import { registerWebhookSubscriptionRoutes } from './api/webhook-subscriptions.ts';
import './api/caller.ts';

/** A hop count becomes "trust the nearest n hops", as Fastify does for a number (its types take no number). */
function trustProxyOption(v: boolean | number | string): boolean | string | ((addr: string, hop: number) => boolean) {
  return typeof v === 'number' ? (_addr, hop) => hop < v : v;
}

export async function buildServer(deps: HttpDeps, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    // Per-request "incoming/completed" lines at info would drown the domain logs; HTTP keeps warn and up
    // (metrics carry request counts and durations), never more than LOG_LEVEL allows (e.g. silent).
    loggerInstance: logger.child({ component: 'http' }, { level: logger.levelVal < 40 ? 'warn' : logger.level }) as unknown as FastifyBaseLogger,
    // Portal links carry a signed token in the path.
    routerOptions: { maxParamLength: 1000 },
    bodyLimit: 1024 * 1024,
    // Off unless TRUST_PROXY says which proxies to believe: otherwise any client picks its own address with
    // X-Forwarded-For, and that address is written into audit lines and ACH mandates.
    trustProxy: trustProxyOption(deps.security?.trustProxy ?? false),
  });
  // Before any route: every route is looked up in http/permissions.ts as it is registered (authorize.ts).
  enforcePermissions(app, deps);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  registerSecurityHeaders(app, { https: deps.security?.https ?? false });
  registerServerTiming(app);
  registerBadInputGuards(app);
  // Before any route, so that every route gets them (issue #8 items 2 and 3).
  await registerRateLimits(app, deps.limits?.rate ?? rateLimitsFromEnv());
  registerCsrfProtection(app, deps.sessionSecret, deps.ctx.publicUrl);
  app.decorateRequest('caller', null);
  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Settle API', version: '1', description: 'Payments and reconciliation for MSPs. Amounts are strings of minor units.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'stl_… API key' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  registerHealthRoutes(app, deps);
  registerWebhookRoutes(app, deps);
  registerWebConnectorRoutes(app, deps);
  registerPortalRoutes(app, deps);
  registerPortalCollectionRoutes(app, deps);
  registerBankAchPortalRoutes(app, deps);
  registerInstallmentOfferPortalRoutes(app, deps);
  registerCollectionsPortalRoutes(app, deps);
  registerPortalAccountRoutes(app, deps);
  registerPayLinkRoutes(app, deps);
  registerUpdateMethodRoutes(app, deps);
  registerDashboardRoutes(app, deps);
  registerApiKeyPages(app, deps);
  registerStaffApp(app, deps);
  await app.register(
    async (api) => {
      api.addHook('onRequest', async (req, reply) => {
        // Bearer API keys only: the session cookie is never accepted here (csrf.ts).
        req.caller = await identifyApiKey(req, deps.ctx.db);
        if (!req.caller) return unauthorized(reply);
      });
      registerInvoiceRoutes(api, deps);
      registerPaymentRoutes(api, deps);
      registerClientRoutes(api, deps);
      registerActivityRoutes(api, deps);
      registerLifecycleRoutes(api, deps);
      registerCollectionRoutes(api, deps);
      registerCollectionsAssistRoutes(api, deps);
      registerSurchargeRoutes(api, deps);
      registerExceptionRoutes(api, deps);
      registerPostingRoutes(api, deps);
      registerRetryPolicyRoutes(api, deps);
      registerAutopayRoutes(api, deps);
      registerBankAchRoutes(api, deps);
      registerPortalFramingRoutes(api, deps);
      registerApiKeyRoutes(api, deps);
      registerWebhookSubscriptionRoutes(api, deps);
      registerReportRoutes(api, deps);
      registerCashForecastRoutes(api, deps);
    },
    { prefix: '/api/v1' },
  );
  return app;
}
