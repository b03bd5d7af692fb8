// Enforces http/permissions.ts on every route. An onRoute hook looks each route up as it is registered and
// throws when it is missing (so `settle start` and every test fail until someone declares who may call
// it), then adds an onRequest check to the route: a staff route needs a signed-in user or an API key
// whose role includes the one declared (an own-account route: a signed-in person, never a key); a refusal is a 403 that names both roles, a warn log line and an
// audit entry, and comes before the body is parsed or validated — nothing of the request is acted on.
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import { withTenant } from '../db/tenant.ts';
import { roleAtLeast, type StaffRole } from '../domain/roles.ts';
import { audit } from '../engine/audit.ts';
import { identify, unauthorized } from './auth.ts';
import type { HttpDeps } from './deps.ts';
import { renderStaff } from './staff/view.ts';
import { PERMISSIONS, type Access } from './permissions.ts';

export interface RoutePermission {
  readonly method: string;
  readonly url: string;
  readonly access: Access;
}

const registered = new WeakMap<FastifyInstance, RoutePermission[]>();

/** Every route of the server with the access it was registered with (for the roles test and docs). */
export function routePermissions(app: FastifyInstance): readonly RoutePermission[] {
  return registered.get(app) ?? [];
}

export class UndeclaredRouteError extends Error {}

/** The declared access for METHOD url; HEAD follows GET (Fastify adds a HEAD beside every GET). */
export function accessFor(method: string, url: string, table: Readonly<Record<string, Access>> = PERMISSIONS): Access | null {
  const m = method === 'HEAD' ? 'GET' : method;
  const exact = table[`${m} ${url}`];
  if (exact) return exact;
  for (const [key, access] of Object.entries(table)) {
    if (!key.endsWith('/**')) continue;
    const [km, prefix] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1, -3)];
    if (km === m && (url === prefix || url.startsWith(`${prefix}/`))) return access;
  }
  return null;
}

/** Install before any route is registered (onRoute hooks see only routes added after them). */
export function enforcePermissions(app: FastifyInstance, deps: HttpDeps, table: Readonly<Record<string, Access>> = PERMISSIONS): void {
  const list: RoutePermission[] = [];
  registered.set(app, list);
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethods[];
    // Per method: one route may be registered for several methods with different access.
    const needs = new Map<string, Checked>();
    for (const method of methods) {
      const access = accessFor(method, route.url, table);
      if (!access)
        throw new UndeclaredRouteError(
          `route ${method} ${route.url} has no permission: add "${method} ${route.url}": 'viewer' | 'finance' | 'owner' | 'public' | … to src/http/permissions.ts (docs/security-roles.md)`,
        );
      if (access === 'viewer' && MUTATING.has(method))
        throw new UndeclaredRouteError(
          `route ${method} ${route.url} is declared viewer, but a viewer only reads: declare finance or owner, or 'own-account' for a form that changes only the signed-in person's own account (docs/security-roles.md)`,
        );
      list.push({ method, url: route.url, access });
      if (access === 'viewer' || access === 'finance' || access === 'owner' || access === 'own-account') needs.set(method, access);
    }
    if (needs.size === 0) return;
    describeInOpenApi(route, needs);
    const check = roleCheck(deps, needs);
    const existing = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
    route.onRequest = [...existing, check];
  });
}

type Checked = StaffRole | 'own-account';

/** The API reference (/api/docs) says which role each operation needs (swagger reads the schema after this hook). */
function describeInOpenApi(route: RouteOptions, needs: ReadonlyMap<string, Checked>): void {
  const schema = route.schema as { hide?: boolean; description?: string } | undefined;
  if (!schema || schema.hide) return;
  const roles = [...new Set(needs.values())];
  if (roles.length !== 1 || roles[0] === 'own-account') return;
  const line = `Needs the **${roles[0]}** role: an API key made with \`--role ${roles[0]}\`${roles[0] === 'owner' ? '' : ' or higher'} (docs/security-roles.md).`;
  route.schema = { ...schema, description: schema.description ? `${schema.description}\n\n${line}` : line };
}
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function roleCheck(deps: HttpDeps, needsByMethod: ReadonlyMap<string, Checked>): onRequestAsyncHookHandler {
  return async function checkRole(req: FastifyRequest, reply: FastifyReply) {
    const needs = needsByMethod.get(req.method) ?? (req.method === 'HEAD' ? needsByMethod.get('GET') : undefined);
    if (!needs) return; // a method of this route declared public, portal-link or vendor-signature
    // /api/v1 identifies its caller in its own onRequest hook (run before this route-level one); staff
    // pages are identified here.
    req.caller ??= await identify(req, deps.ctx.db, deps.sessionSecret, deps.staff?.timeouts);
    const api = isApi(req);
    if (!req.caller) {
      if (api) return unauthorized(reply);
      return req.method === 'GET' || req.method === 'HEAD'
        ? reply.redirect('/login')
        : renderStaff(
            req,
            reply,
            'message',
            { title: 'Sign in', message: 'Your session has ended.', kind: 'error', link: { href: '/login', text: 'Sign in and try again' } },
            { status: 401, deps },
          );
    }
    const caller = req.caller;
    const byKey = caller.actor.startsWith('api_key:');
    if (needs === 'own-account' ? !byKey : roleAtLeast(caller.role, needs)) return;
    const route = `${req.method === 'HEAD' ? 'GET' : req.method} ${req.routeOptions.url ?? req.url}`;
    req.log.warn({ tenant: caller.tenantId, actor: caller.actor, role: caller.role, needs, route }, 'permission refused');
    await withTenant(deps.ctx.db, caller.tenantId, (tx) =>
      audit(tx, caller.tenantId, caller.actor, 'permission.refused', { type: 'route', id: route }, { role: caller.role, needs }),
    );
    const message =
      needs === 'own-account'
        ? `${route} changes the signed-in person's own account and needs the own-account permission: sign in as that person; an API key cannot use it.`
        : `${route} needs the ${needs} role; ${byKey ? 'this API key has' : 'you have'} ${caller.role}. Ask a workspace owner${byKey ? ' for a key made with --role ' + needs : ' to change your role'}.`;
    if (api) return reply.code(403).send({ error: { code: 'forbidden', message } });
    // A staff page in the staff app's layout (http/staff/view.ts), so the navigation stays at hand.
    return renderStaff(
      req,
      reply,
      'message',
      { title: 'Not allowed', message, kind: 'error', link: { href: '/app', text: 'Back to the dashboard' } },
      { status: 403, deps },
    );
  };
}

function isApi(req: FastifyRequest): boolean {
  const url = req.routeOptions.url ?? req.url;
  return url === '/api/v1' || url.startsWith('/api/v1/');
}
