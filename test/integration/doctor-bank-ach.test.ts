// `settle doctor` on the bank-ACH connection (issue #6 item 6): the SFTP login and both directories are
// checked against the SFTP bank simulator, and a wrong directory is named with its fix. The doctor function is
// the one `settle doctor` runs (src/cli/main.ts); real PostgreSQL and simulators over the network.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctor } from '../../src/cli/doctor.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { ConnectorCache, readConnection, saveConnection } from '../../src/engine/connections.ts';
import { startBankAchStack, type BankAchStack } from './bank-ach-stack.ts';

let s: BankAchStack;
beforeAll(async () => {
  s = await startBankAchStack({ companies: 1, invoices: 1 });
}, 120_000);
afterAll(async () => s?.close());

async function run(): Promise<Map<string, { ok: boolean; detail: string }>> {
  const db = s.stack.database.db;
  const findings = await doctor(db, new ConnectorCache(db, s.box), { box: s.box, publicUrl: s.stack.settleUrl, log: createLogger('silent') });
  return new Map(findings.map((f) => [f.what, { ok: f.ok, detail: f.detail }]));
}

describe('settle doctor: bank ACH', () => {
  it('signs in to the bank and reads both directories', async () => {
    const f = (await run()).get('acme-it bank_ach');
    expect(f?.ok).toBe(true);
    expect(f?.detail).toMatch(/signed in; \/\S+ and \/\S+ readable/);
  });

  it('names a directory the bank does not have, with the fix', async () => {
    const conn = (await readConnection(s.stack.database.db, s.box, s.stack.tenantId, 'bank_ach'))!;
    const sftp = conn.config.sftp as Record<string, unknown>;
    await saveConnection(s.stack.database.db, s.box, s.stack.tenantId, {
      role: 'bank_ach',
      vendor: 'bank-ach',
      config: { ...conn.config, sftp: { ...sftp, downloadDir: '/no-such-outbox' } },
      secrets: conn.secrets,
      actor: 'system:test',
    });
    const f = (await run()).get('acme-it bank_ach');
    expect(f?.ok).toBe(false);
    expect(f?.detail).toMatch(/bank SFTP: .*no-such-outbox.*settle connect bank_ach/);
  });
});
