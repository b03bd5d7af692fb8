// One Kysely instance over one pg pool. int8 columns are read as bigint (money is bigint minor units and
// must never pass through a JS number); date columns stay YYYY-MM-DD text so no time zone can shift them.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { namePreparedStatements, preparedStatementsEnabled } from './prepared-statements.ts';
import type { Database } from './schema.ts';

const INT8_OID = 20;
const DATE_OID = 1082;

export type Db = Kysely<Database>;

export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    types: {
      getTypeParser: ((oid: number, format?: string) => {
        if (oid === INT8_OID) return (v: string) => BigInt(v);
        if (oid === DATE_OID) return (v: string) => v;
        return pg.types.getTypeParser(oid, format as 'text');
      }) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection the server closes (restart, failover, a dropped test database) emits 'error' on the
  // pool; unhandled, that would crash the process. The pool discards the client; the next query reconnects.
  pool.on('error', () => {});
  // A checked-out connection the server closes while it waits between two statements (a transaction
  // holding its connection across a vendor call when PostgreSQL restarts) emits 'error' on the client, not
  // the pool; unhandled, that ends the process (seen in the soak during a PostgreSQL outage). pg raises the
  // error again on the client's next query, where the caller handles it: here it only must not be fatal.
  // (graphile-worker adds the same listener, but only to connections made while its runner is up.)
  const prepare = preparedStatementsEnabled();
  pool.on('connect', (client) => {
    client.on('error', () => {});
    if (prepare) namePreparedStatements(client);
  });
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
