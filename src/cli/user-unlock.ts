// `settle user unlock --workspace SLUG EMAIL [--address IP]`: lifts a sign-in lock from the server (issue #8
// item 2), for when no other owner can do it on the staff page — a workspace's only owner locked out by
// someone guessing their password. Lifts the e-mail's locks from every address (or the one given), forgets
// its failed attempts, and writes the unlock to the audit log as system:cli.
import type { Db } from '../db/pool.ts';
import { unlockSignIn } from '../engine/sign-in-lockout.ts';
import { flag, requireFlag, UsageError, type Args } from './args.ts';
import { tenantIdBySlug } from './workspace.ts';

export const USER_UNLOCK_USAGE = 'usage: settle user unlock --workspace SLUG EMAIL [--address IP]';

export async function runUserUnlock(db: Db, args: Args, out: (line: string) => void): Promise<void> {
  const email = args.positional[2];
  if (!email) throw new UsageError(USER_UNLOCK_USAGE);
  const tenantId = await tenantIdBySlug(db, requireFlag(args, 'workspace', 'workspace slug'));
  const address = flag(args, 'address');
  const lifted = await unlockSignIn(db, tenantId, email, 'system:cli', address);
  out(
    lifted > 0
      ? `unlocked ${email.trim().toLowerCase()}: ${lifted} lock${lifted === 1 ? '' : 's'} lifted${address ? ` (address ${address})` : ''}; failed attempts forgotten`
      : `unlocked ${email.trim().toLowerCase()}: it was not locked${address ? ` from ${address}` : ''}; failed attempts forgotten`,
  );
}
