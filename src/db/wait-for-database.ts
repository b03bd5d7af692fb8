// Starting while PostgreSQL is down (a restart during a database outage, a database container still
// booting) waits for it instead of exiting: Settle rides out an outage of any length, including one it
// starts into. Only errors that say "not reachable yet" are waited on; a wrong password, a missing database
// or anything else ends the start at once with its own message.
import type pg from 'pg';
import type { Logger } from 'pino';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);

/** PostgreSQL's own "not now" answers: shutting down, starting up, crash recovery, connection failures. */
export function isDatabaseUnreachable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  if (UNREACHABLE_CODES.has(code)) return true;
  if (code.startsWith('57P') || code.startsWith('08')) return true;
  return typeof err?.message === 'string' && /Connection terminated|connection timeout/i.test(err.message);
}

export async function waitForDatabase(
  pool: pg.Pool,
  log: Logger,
  opts: { maxDelayMs?: number; signal?: AbortSignal; sleep?: (ms: number) => Promise<void> } = {},
): Promise<void> {
  const maxDelay = opts.maxDelayMs ?? 10_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let delay = 500;
  const since = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await pool.query('SELECT 1');
      if (attempt > 1) log.info({ waitedMs: Date.now() - since }, 'the database is reachable again; starting');
      return;
    } catch (e) {
      if (!isDatabaseUnreachable(e) || opts.signal?.aborted) throw e;
      log.warn({ err: (e as Error).message, attempt, retryInMs: delay }, 'waiting for the database (not reachable yet)');
      await sleep(delay);
      delay = Math.min(maxDelay, delay * 2);
    }
  }
}
