import { describe, expect, it } from 'vitest';
import { preparedStatementsEnabled, StatementNames } from './prepared-statements.ts';

describe('statement names', () => {
  it('names the same DML text the same way, and different texts differently', () => {
    const n = new StatementNames();
    const a = n.nameFor('select * from "payments" where "id" = $1');
    expect(a).toMatch(/^settle_[0-9a-f]{24}$/);
    expect(n.nameFor('select * from "payments" where "id" = $1')).toBe(a);
    expect(n.nameFor('select * from "invoices" where "id" = $1')).not.toBe(a);
    expect(n.nameFor('  WITH x AS (SELECT 1) SELECT * FROM x')).not.toBeNull();
  });

  it('leaves transaction control, settings and DDL unnamed', () => {
    const n = new StatementNames();
    for (const text of ['begin', 'commit', 'rollback', "SET LOCAL statement_timeout = '1s'", 'CREATE TABLE t (x int)', 'selected'])
      expect(n.nameFor(text), text).toBeNull();
  });

  it('names at most the cap of distinct texts, then sends the rest unnamed', () => {
    const n = new StatementNames(3);
    const names = [1, 2, 3, 4, 5].map((i) => n.nameFor(`select ${i}`));
    expect(names.slice(0, 3).every((x) => x !== null)).toBe(true);
    expect(names.slice(3)).toEqual([null, null]);
    expect(n.nameFor('select 1')).toBe(names[0]); // the named ones stay named
  });

  it('a forgotten text stays unnamed', () => {
    const n = new StatementNames();
    n.nameFor('select * from t');
    n.forget('select * from t');
    expect(n.nameFor('select * from t')).toBeNull();
  });

  it('is on unless SETTLE_DB_PREPARED=off', () => {
    expect(preparedStatementsEnabled({})).toBe(true);
    expect(preparedStatementsEnabled({ SETTLE_DB_PREPARED: 'OFF' })).toBe(false);
    expect(preparedStatementsEnabled({ SETTLE_DB_PREPARED: 'on' })).toBe(true);
  });
});
