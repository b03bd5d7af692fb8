// Named prepared statements for the queries Kysely sends. Kysely hands pg a text and its parameters; pg sends
// them unnamed, so PostgreSQL parses, rewrites (row-level security included) and plans every statement anew.
// Measured on the autopay benchmark (pg_stat_statements with track_planning): planning alone was 5.5 ms of
// PostgreSQL CPU per charge against 7.6 ms of execution — on a 2-core machine, a third of what a charge costs.
// Named, a statement is parsed once per connection and, after a few runs, planned once (PostgreSQL's plan
// cache; row-level security still holds: the policies read the tenant setting when the plan runs).
//
// Bounded: at most MAX_NAMED distinct texts get a name per process (texts vary with the length of IN lists
// and multi-row inserts); the rest go unnamed as before. Only plain DML is named (no BEGIN, SET, DDL).
// SETTLE_DB_PREPARED=off turns it off — needed behind a connection pooler in transaction mode that does
// not track prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
import { createHash } from 'node:crypto';
import type pg from 'pg';

const MAX_NAMED = 2000;
const DML = /^\s*(select|insert|update|delete|with)\b/i;

export class StatementNames {
  private readonly names = new Map<string, string | null>();
  constructor(private readonly max = MAX_NAMED) {}

  /** The name for this text, or null when it stays unnamed (not DML, refused before, or the cap reached). */
  nameFor(text: string): string | null {
    const known = this.names.get(text);
    if (known !== undefined) return known;
    if (!DML.test(text) || this.names.size >= this.max) return null;
    const name = `settle_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    this.names.set(text, name);
    return name;
  }

  /**
   * A text whose prepared form the server refused — "cached plan must not change result type" after a
   * migration changed a table under a `select *` — is sent unnamed from now on (the failed statement's
   * transaction is retried by its caller as any other error).
   */
  forget(text: string): void {
    this.names.set(text, null);
  }
}

const names = new StatementNames();

export function preparedStatementsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.SETTLE_DB_PREPARED ?? 'on').toLowerCase() !== 'off';
}

type QueryFn = (...args: unknown[]) => unknown;

/** Makes `client.query(text, values)` (Kysely's call) use a named statement. Other call shapes pass through. */
export function namePreparedStatements(client: pg.PoolClient | pg.Client, registry: StatementNames = names): void {
  const target = client as unknown as { query: QueryFn };
  // The class's query, looked up at each call (not bound once here), so that a wrapper installed on the
  // prototype later — bench/lib/profile.ts counts statements that way — still sees every statement.
  const proto = Object.getPrototypeOf(client) as { query: QueryFn };
  const original: QueryFn = (...args) => proto.query.apply(client, args);
  target.query = (...args: unknown[]): unknown => {
    const [text, values] = args;
    if (args.length !== 2 || typeof text !== 'string' || !Array.isArray(values)) return original(...args);
    const name = registry.nameFor(text);
    if (!name) return original(...args);
    const result = original({ text, values, name }) as Promise<unknown>;
    return result.catch((e: unknown) => {
      // 0A000 feature_not_supported: "cached plan must not change result type"
      if ((e as { code?: string }).code === '0A000') registry.forget(text);
      throw e;
    });
  };
}
