// The staff account doors (issue #8 items 5 and 6), registered beside the dashboard: sign-in's second step,
// sign-out, forgotten passwords, invitations, "Your account" and "Users". Also the rule that an owner of a
// workspace that requires a second factor sets one up before any other staff page opens.
import type { FastifyInstance } from 'fastify';
import { staffSession } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { registerAccountRoutes } from './account.ts';
import { registerSignInRoutes } from './sign-in.ts';
import { mustEnrolMfa, timeoutsOf } from './staff-forms.ts';
import { registerUserRoutes } from './users.ts';
import { prepareDummyHash } from '../passwords.ts';

// Pages an owner who must enrol can still open: their account page (to enrol), sign-out, sign-in itself.
const OPEN_WHILE_ENROLLING = /^\/(account(\/|$)|logout$|login(\/|$))/;
// The staff app's files (/assets) are not pages: the account page that asks to enrol needs them.
const NOT_STAFF_PAGES = /^\/(api|portal|webhooks|healthz|readyz|metrics|assets)(\/|$)/;

export function registerStaffAccountRoutes(app: FastifyInstance, deps: HttpDeps): void {
  // The dummy hash for unknown e-mails is made now, so the first wrong guess is not answered faster.
  void prepareDummyHash();
  registerSignInRoutes(app, deps);
  registerAccountRoutes(app, deps);
  registerUserRoutes(app, deps);
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (NOT_STAFF_PAGES.test(path) || OPEN_WHILE_ENROLLING.test(path) || path === '/') return;
    const session = await staffSession(req, deps.ctx.db, timeoutsOf(deps));
    if (!session || !(await mustEnrolMfa(deps, session))) return;
    if (req.method === 'GET') return reply.redirect('/account#second-factor');
    return reply
      .code(403)
      .type('text/html')
      .send(
        '<!doctype html><title>Second factor needed</title><p>This workspace requires owners to use a second factor. <a href="/account">Set it up</a> first.</p>',
      );
  });
}
