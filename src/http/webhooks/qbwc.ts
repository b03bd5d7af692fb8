// The QuickBooks Web Connector's SOAP endpoint (QBWebConnectorSvc.wsdl, served as is from the repo copy of
// Intuit's description). The `soap` library (npm) parses the envelope, checks the operation against the WSDL
// and writes the response envelope; it is mounted through its serverless entry (Server.processRequest), so the
// endpoint is an ordinary Fastify route — rate limits, logging and the permissions table apply as to any
// other — rather than soap.listen's takeover of the Node server's request listeners. One endpoint serves every
// workspace: the Web Connector's user name (from the .qwc) names the workspace, its password is checked against
// the connection's sealed secret by the workspace's connector, and every later call carries only the ticket.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createServerless, type Server } from 'soap';
import { QBWC_PATH, WebConnectorService } from '../../connectors/accounting/quickbooks-desktop/web-connector.ts';
import { QuickBooksDesktopConnector } from '../../connectors/accounting/quickbooks-desktop/connector.ts';
import { wakeQbdPostings } from '../../engine/qbd-wake.ts';
import type { HttpDeps } from '../deps.ts';

const WSDL_FILE = new URL('../../connectors/accounting/quickbooks-desktop/QBWebConnectorSvc.wsdl', import.meta.url);

type Args = Record<string, string | undefined>;

export function webConnectorService(deps: HttpDeps): WebConnectorService {
  return new WebConnectorService({
    db: deps.ctx.db,
    log: deps.ctx.log,
    verify: async (tenantId, password) => {
      const books = await deps.ctx.connectors.accounting(tenantId).catch(() => null);
      if (!(books instanceof QuickBooksDesktopConnector) || !books.acceptsPassword(password)) return null;
      return { home: books.config.home, companyFile: books.config.companyFile ?? '' };
    },
    settled: (tenantId) => wakeQbdPostings(deps.ctx.db, tenantId),
  });
}

function soapServices(svc: WebConnectorService): Parameters<typeof createServerless>[0]['services'] {
  const ops = {
    serverVersion: async () => ({ serverVersionResult: svc.serverVersion() }),
    clientVersion: async (a: Args) => ({ clientVersionResult: svc.clientVersion(a['strVersion'] ?? '') }),
    authenticate: async (a: Args) => ({ authenticateResult: { string: await svc.authenticate(a['strUserName'] ?? '', a['strPassword'] ?? '') } }),
    sendRequestXML: async (a: Args) => ({ sendRequestXMLResult: await svc.sendRequestXML(a['ticket'] ?? '') }),
    receiveResponseXML: async (a: Args) => ({
      receiveResponseXMLResult: await svc.receiveResponseXML(a['ticket'] ?? '', a['response'] ?? '', a['hresult'] ?? '', a['message'] ?? ''),
    }),
    connectionError: async (a: Args) => ({ connectionErrorResult: await svc.connectionError(a['ticket'] ?? '', a['hresult'] ?? '', a['message'] ?? '') }),
    getLastError: async (a: Args) => ({ getLastErrorResult: await svc.getLastError(a['ticket'] ?? '') }),
    closeConnection: async (a: Args) => ({ closeConnectionResult: await svc.closeConnection(a['ticket'] ?? '') }),
  };
  return { TroubleshootWebServiceFS: { TroubleshootWebServiceFSSoap: ops, TroubleshootWebServiceFSSoap12: ops } };
}

export function registerWebConnectorRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const wsdl = readFileSync(WSDL_FILE, 'utf8');
  let server: Promise<Server> | null = null;
  // createServerless may resolve before the library has read the WSDL: in bench/qbd-requests-per-payment.ts the
  // first request of a fresh Settle failed with a 500 ("reading 'messages'"), and a real Web Connector would lose
  // that whole run. The options' callback fires once the WSDL is ready, so wait for it. The race needs a handler
  // that starts in a promise continuation, as Settle's async hooks make it (the library parses the WSDL in a
  // nextTick): test/integration/quickbooks-desktop-soap-ready.test.ts reproduces it without this wait.
  const soap = () =>
    (server ??= new Promise<Server>((resolve, reject) => {
      createServerless({
        path: QBWC_PATH,
        services: soapServices(webConnectorService(deps)),
        xml: wsdl,
        suppressStack: true,
        callback: (err: unknown, ready: Server) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(ready)),
      }).catch(reject);
    }));
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 32 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    // The WSDL, with this server's own address as the service location.
    scope.get(QBWC_PATH, { schema: { hide: true } }, async (_req, reply) => {
      const here = `${deps.ctx.publicUrl.replace(/\/$/, '')}${QBWC_PATH}`;
      return reply.type('text/xml; charset=utf-8').send(wsdl.replace(/location="[^"]*"/g, `location="${here}"`));
    });
    scope.post(QBWC_PATH, { schema: { hide: true } }, async (req, reply) => {
      const res = await (
        await soap()
      ).processRequest(typeof req.body === 'string' ? req.body : '', {
        url: QBWC_PATH,
        method: 'POST',
        headers: req.headers as Record<string, string>,
      });
      return reply.code(res.statusCode).headers(res.headers).send(res.body);
    });
  });
}
