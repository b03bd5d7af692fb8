// `settle collections run --workspace SLUG`: a Collections Assist run now, as the 15-minute cron runs it (claim
// every due step once, compose one e-mail per client), then its reminders sent through the relay from this
// process (the batch sender: safe beside a running worker, each reminder leased to one sender). Prints what
// happened. `settle collections status --workspace SLUG`: the switch and hours, whether reminders may go out
// now and why not, today's reminders (waiting, sent, refused), active holds and open escalations.
import { sql } from 'kysely';
import type { Config } from '../config.ts';
import { SecretBox } from '../db/crypto.ts';
import { withTenant } from '../db/tenant.ts';
import { ConnectorCache } from '../engine/connections.ts';
import type { EngineContext } from '../engine/context.ts';
import { runCollections } from '../engine/collections-assist/run.ts';
import { sendReminders } from '../engine/collections-assist/send.ts';
import { listSequences, readCollectionSettings } from '../engine/collections-assist/sequences.ts';
import { workspaceToday } from '../engine/collections-assist/holds.ts';
import { createMailer } from '../notify/mailer.ts';
import { requireFlag, UsageError, type Args } from './args.ts';
import type { Logger } from 'pino';
import { openDatabase } from './runtime.ts';
import { tenantIdBySlug } from './workspace.ts';

export const COLLECTIONS_USAGE = 'usage: settle collections run|status --workspace SLUG';

/** The engine as `settle start` builds it (database, sealed secrets, the relay), for one command. */
export async function withEngine(config: Config, log: Logger, fn: (ctx: EngineContext) => Promise<number>): Promise<number> {
  const d = await openDatabase(config, log);
  const box = SecretBox.load(config.SETTLE_SECRET_KEY, config.SETTLE_DATA_DIR);
  const mailer = createMailer(config.SETTLE_SMTP_URL, { connections: config.SETTLE_SMTP_CONNECTIONS });
  try {
    return await fn({
      db: d.db,
      connectors: new ConnectorCache(d.db, box),
      log,
      publicUrl: config.publicUrl,
      now: () => new Date(),
      mailer,
      mailFrom: config.SETTLE_MAIL_FROM,
      box,
    });
  } finally {
    mailer.close();
    await d.close();
  }
}

export async function runCollectionsCommand(ctx: EngineContext, rest: readonly string[], args: Args, say: (s: string) => void): Promise<number> {
  const sub = rest[0];
  if (sub !== 'run' && sub !== 'status') throw new UsageError(COLLECTIONS_USAGE);
  const slug = requireFlag(args, 'workspace', 'workspace slug');
  const tenantId = await tenantIdBySlug(ctx.db, slug);
  return sub === 'run' ? run(ctx, tenantId, slug, say) : status(ctx, tenantId, slug, say);
}

async function run(ctx: EngineContext, tenantId: string, slug: string, say: (s: string) => void): Promise<number> {
  const r = await runCollections(ctx, tenantId);
  if (!r.window) {
    say(`Collections Assist is off for ${slug}: nothing to do. Turn it on in the staff app (Collections) or PUT /api/v1/collections-assist/settings.`);
    return 0;
  }
  say(r.window.open ? `Sending window open (${r.window.day}).` : `Sending window closed: ${r.window.why}; nothing new claimed.`);
  say(`Claimed ${r.claimed} reminder step(s); ${r.emails} e-mail(s) written, ${r.cancelled} cancelled (invoice closed), ${r.escalated} escalated to staff.`);
  if (r.promisesKept || r.promisesMissed) say(`Promises: ${r.promisesKept} kept, ${r.promisesMissed} missed (chasing resumes).`);
  if (!ctx.mailer.configured) {
    say('No SMTP relay configured (SETTLE_SMTP_URL): the reminders are kept in the outbox, marked skipped.');
    await sendReminders(ctx, tenantId);
    return 0;
  }
  const s = await sendReminders(ctx, tenantId);
  say(`Sent ${s.sent}; ${s.skipped} not sent (every invoice in it closed meanwhile); ${s.failed} refused by the relay (kept, tried again).`);
  return s.failed > 0 ? 1 : 0;
}

async function status(ctx: EngineContext, tenantId: string, slug: string, say: (s: string) => void): Promise<number> {
  const today = await workspaceToday(ctx.db, tenantId, ctx.now());
  const facts = await withTenant(ctx.db, tenantId, async (tx) => {
    const settings = await readCollectionSettings(tx);
    const sequences = await listSequences(tx);
    const mails = await sql<{ status: string; refused: string; n: string }>`
      SELECT status, (last_error IS NOT NULL AND status = 'pending')::text AS refused, count(*)::text AS n
        FROM notifications WHERE kind = 'collection_reminder' AND (created_at >= ${today}::date OR status = 'pending')
       GROUP BY 1, 2`.execute(tx);
    const holds = await sql<{ kind: string; n: string }>`
      SELECT kind, count(*)::text AS n FROM collection_holds WHERE released_at IS NULL GROUP BY kind ORDER BY kind`.execute(tx);
    const open = await sql<{ kind: string; n: string }>`
      SELECT kind, count(*)::text AS n FROM exceptions WHERE status = 'open' AND kind LIKE 'collections\\_%' GROUP BY kind ORDER BY kind`.execute(tx);
    return { settings, sequences, mails: mails.rows, holds: holds.rows, open: open.rows };
  });
  const { settings: s } = facts;
  say(
    `Collections Assist for ${slug}: ${s.enabled ? 'on' : 'off'}; reminders ${s.sendFrom}:00–${s.sendUntil}:00 ${s.businessDaysOnly ? 'on business days' : 'every day'} (workspace time; today is ${today}).`,
  );
  say(
    `Sequences: ${facts.sequences.map((q) => `${q.name}${q.isDefault ? ' (default)' : ''}, ${q.steps.length} steps, ${q.assignments.length} assignment(s)`).join('; ') || 'none yet'}.`,
  );
  const count = (st: string, refused?: boolean) =>
    facts.mails.filter((m) => m.status === st && (refused === undefined || (m.refused === 'true') === refused)).reduce((a, m) => a + Number(m.n), 0);
  say(
    `Reminders: ${count('pending', false)} waiting, ${count('pending', true)} refused by the relay (tried again), ${count('sent')} sent today, ${count('skipped')} not sent today.`,
  );
  say(`Holds: ${facts.holds.map((h) => `${h.n} ${h.kind}`).join(', ') || 'none'}.`);
  say(`Needs attention: ${facts.open.map((e) => `${e.n} ${e.kind}`).join(', ') || 'nothing from Collections Assist'}.`);
  return 0;
}
