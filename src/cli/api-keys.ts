// `settle api-key create|list|revoke`: API keys of a workspace from the server's shell (the same as an
// owner's /api/v1/api-keys). Every key names its role; list shows what each may do and when it was used.
import type { Db } from '../db/pool.ts';
import { ApiKeyInputError, createApiKey, listApiKeys, parseExpiry, parseRole, revokeApiKey } from '../engine/api-keys.ts';
import { flag, requireFlag, UsageError, type Args } from './args.ts';
import { tenantIdBySlug } from './workspace.ts';

export const API_KEY_USAGE = `usage:
  settle api-key create --workspace SLUG --role viewer|finance|owner [--name NAME] [--expires 90d|2027-01-31]
  settle api-key list --workspace SLUG
  settle api-key revoke --workspace SLUG ID|PREFIX`;

export async function runApiKeyCommand(db: Db, sub: string | undefined, args: Args, out: (line: string) => void, err: (line: string) => void): Promise<void> {
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new UsageError(API_KEY_USAGE);
  const tenantId = await tenantIdBySlug(db, requireFlag(args, 'workspace', 'workspace slug'));
  try {
    if (sub === 'create') {
      const roleText = flag(args, 'role');
      if (!roleText) throw new UsageError(`missing --role: viewer (reads), finance (also moves money) or owner (also settings, users, keys)\n${API_KEY_USAGE}`);
      const expires = flag(args, 'expires');
      const role = parseRole(roleText);
      const expiresAt = expires ? parseExpiry(expires) : null;
      const key = await createApiKey(db, tenantId, { name: flag(args, 'name') ?? 'cli', role, expiresAt }, 'system:cli');
      out(key.secret);
      err(`Store this key now: Settle keeps only its hash. Key ${key.id}, role ${role}, ${expiresAt ? `expires ${expiresAt.toISOString()}` : 'no expiry'}.`);
      return;
    }
    if (sub === 'list') {
      const keys = await listApiKeys(db, tenantId);
      if (keys.length === 0) return out('no API keys; make one with `settle api-key create --workspace … --role …`');
      const now = Date.now();
      const rows = keys.map((k) => [
        k.id,
        k.prefix,
        k.role,
        k.name,
        iso(k.created_at),
        k.expires_at ? iso(k.expires_at) : 'never',
        k.last_used_at ? iso(k.last_used_at) : 'never',
        k.revoked_at ? `revoked ${iso(k.revoked_at)}` : k.expires_at && k.expires_at.getTime() <= now ? 'expired' : 'active',
      ]);
      for (const line of table(['ID', 'PREFIX', 'ROLE', 'NAME', 'CREATED', 'EXPIRES', 'LAST USED', 'STATE'], rows)) out(line);
      return;
    }
    const ref = args.positional[2];
    if (!ref) throw new UsageError(`name the key to revoke by its id or prefix\n${API_KEY_USAGE}`);
    const r = await revokeApiKey(db, tenantId, ref, 'system:cli');
    out(r.alreadyRevoked ? `API key ${r.id} (${r.name}) was already revoked` : `API key ${r.id} (${r.name}) revoked; it is refused from its next request`);
  } catch (e) {
    if (e instanceof ApiKeyInputError) throw new UsageError(e.message);
    throw e;
  }
}

function iso(d: Date): string {
  return d.toISOString().slice(0, 16).replace('T', ' ') + 'Z';
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}
