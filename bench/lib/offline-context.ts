// An engine context for benchmarks that read Settle's own tables only (reports, the forecast): no vendor is
// asked, nothing is logged or mailed.
import type pg from 'pg';
import pino from 'pino';
import { createDb } from '../../src/db/pool.ts';
import type { EngineContext } from '../../src/engine/context.ts';
import { createMailer } from '../../src/notify/mailer.ts';

export function offlineContext(pool: pg.Pool): EngineContext {
  return {
    db: createDb(pool),
    connectors: null as never,
    log: pino({ level: 'silent' }),
    publicUrl: 'http://localhost',
    now: () => new Date(),
    mailer: createMailer(undefined),
    mailFrom: 'bench@settle.invalid',
  };
}
