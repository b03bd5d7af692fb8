// `settle user add|list|remove|reset-password` (issue #8 item 6): staff accounts from the server's shell,
// for a first owner, a server without SMTP, or an owner locked out of their second factor. The same engine
// functions as the staff pages (engine/staff-users.ts), so the policy, the last-owner rule, ended sessions
// and audit lines are the same; the actor is `system:cli`. (`settle user unlock` is in user-unlock.ts.)
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import { flag, UsageError, type Args } from './args.ts';
import { tenantIdBySlug } from './workspace.ts';
import { addUser, listUsers, removeUser, setPassword, StaffAccountError, userByEmail } from '../engine/staff-users.ts';
import { createStaffLink } from '../engine/staff-links.ts';
import { disableMfa } from '../engine/staff-mfa.ts';

export const USER_USAGE = `usage:
  settle user add --workspace SLUG EMAIL --role viewer|finance|owner [--name NAME] [--password PASSWORD]
      without --password: prints an invitation link (valid 7 days) for them to choose their own
  settle user list --workspace SLUG
  settle user remove --workspace SLUG EMAIL          their sessions end at once
  settle user reset-password --workspace SLUG EMAIL [--password PASSWORD] [--clear-second-factor]
      without --password: prints a one-time reset link (valid 30 minutes); either way their sessions end`;

type Out = (line: string) => void;

export async function runUserCommand(db: Db, publicUrl: string, sub: string | undefined, args: Args, out: Out): Promise<void> {
  const slug = flag(args, 'workspace');
  if (!slug) throw new UsageError(`missing --workspace SLUG\n\n${USER_USAGE}`);
  const tenantId = await tenantIdBySlug(db, slug);
  const email = args.positional[2];
  const actor = 'system:cli' as const;
  try {
    switch (sub) {
      case 'list': {
        const users = await withTenant(db, tenantId, (tx) => listUsers(tx));
        for (const u of users)
          out(
            [u.email, u.role, u.name, u.mfa_enabled_at ? 'second factor on' : 'second factor off', u.invitation_pending ? 'invitation pending' : '']
              .filter(Boolean)
              .join('\t'),
          );
        return;
      }
      case 'add': {
        if (!email) throw new UsageError(USER_USAGE);
        const role = flag(args, 'role');
        if (!role) throw new UsageError(`missing --role viewer|finance|owner\n\n${USER_USAGE}`);
        const password = flag(args, 'password');
        const link = await withTenant(db, tenantId, async (tx) => {
          const id = await addUser(
            tx,
            tenantId,
            { email, role, ...(flag(args, 'name') ? { name: flag(args, 'name')! } : {}), ...(password !== undefined ? { password } : {}), workspace: slug },
            actor,
          );
          return password === undefined ? createStaffLink(tx, publicUrl, tenantId, id, 'invitation', actor) : null;
        });
        out(`${email.trim().toLowerCase()} added to ${slug} as ${role}`);
        if (link) out(`invitation link (works once, until ${link.expiresAt.toISOString()}): ${link.url}`);
        return;
      }
      case 'remove': {
        if (!email) throw new UsageError(USER_USAGE);
        await withTenant(db, tenantId, (tx) => removeUser(tx, tenantId, email, actor));
        out(`${email.trim().toLowerCase()} removed from ${slug}; their sessions have ended`);
        return;
      }
      case 'reset-password': {
        if (!email) throw new UsageError(USER_USAGE);
        const password = flag(args, 'password');
        const link = await withTenant(db, tenantId, async (tx) => {
          const user = await userByEmail(tx, email);
          if (!user) throw new StaffAccountError(`${email.trim().toLowerCase()} is not a user of ${slug} (settle user list --workspace ${slug})`);
          if (args.flags['clear-second-factor'] === true) await disableMfa(tx, tenantId, user.id, actor);
          if (password !== undefined) {
            await setPassword(tx, tenantId, user.id, password, actor, { reason: 'password_reset', workspace: slug });
            return null;
          }
          // Their sessions end when the new password is saved through the link (engine/staff-users.ts setPassword).
          return createStaffLink(tx, publicUrl, tenantId, user.id, 'password_reset', actor);
        });
        if (args.flags['clear-second-factor'] === true) out('second factor turned off; they can set it up again from their account page');
        if (link) out(`reset link for ${email.trim().toLowerCase()} (works once, until ${link.expiresAt.toISOString()}): ${link.url}`);
        else if (password !== undefined) out(`password of ${email.trim().toLowerCase()} set; their sessions have ended`);
        return;
      }
      default:
        throw new UsageError(USER_USAGE);
    }
  } catch (e) {
    // A policy refusal or an unknown user is a usage problem with a clear message, not a crash.
    if (e instanceof StaffAccountError) throw new UsageError(`settle user ${sub}: ${e.message}`);
    throw e;
  }
}
