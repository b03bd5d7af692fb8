// Settings → Workspace (/app/settings/workspace): the workspace's timezone, the one every staff page shows
// dates and times in and the A/R dashboard counts its days and weeks in. A select of the IANA names the
// runtime knows (Intl.supportedValuesOf('timeZone'), plus UTC). Everyone reads it; the owner changes it
// (workspace-wide settings are the owner's, http/permissions.ts), audited settings.timezone_changed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { formatDateTime } from '../../domain/timezone.ts';
import { UseCaseError } from '../../engine/context.ts';
import { readWorkspaceTimezone, setWorkspaceTimezone, timezoneChoices } from '../../engine/workspace-timezone.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf, one } from './settings-surcharge.ts';
import { renderStaff } from './view.ts';

const PAGE = '/app/settings/workspace';

async function page(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, extra: { chosen?: string; error?: string } = {}) {
  const caller = callerOf(req);
  const current = await withTenant(deps.ctx.db, caller.tenantId, (tx) => readWorkspaceTimezone(tx, caller.tenantId));
  const q = req.query as Record<string, string | undefined>;
  return renderStaff(
    req,
    reply,
    'settings-workspace',
    {
      title: 'Workspace timezone',
      canEdit: roleAtLeast(caller.role, 'owner'),
      current,
      now: formatDateTime(new Date(), current),
      chosen: extra.chosen ?? current,
      zones: timezoneChoices(),
      errors: extra.error ? [{ field: 'timezone', message: extra.error }] : [],
      saved: q['saved'] === '1',
    },
    { status: extra.error ? 422 : 200 },
  );
}

export function registerWorkspaceSettingsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get(PAGE, async (req, reply) => page(req, reply, deps));

  app.post(PAGE, async (req, reply) => {
    const caller = callerOf(req);
    const chosen = one((req.body as Record<string, string | string[] | undefined> | undefined)?.['timezone']);
    if (!chosen) return page(req, reply, deps, { chosen, error: 'Choose the timezone your workspace works in' });
    try {
      await withTenant(deps.ctx.db, caller.tenantId, (tx) => setWorkspaceTimezone(tx, caller.tenantId, chosen, caller.actor));
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return page(req, reply, deps, { chosen, error: `Choose a timezone from the list: “${chosen}” is not one Settle knows` });
    }
    return reply.redirect(`${PAGE}?saved=1`, 303);
  });
}
