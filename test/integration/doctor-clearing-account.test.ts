// `settle doctor` on the QuickBooks clearing account (clearingAccountId: where payout money waits while its
// payment is not in the books yet): the demo wiring names a "Settle clearing" Other Current Asset account; an
// inactive one, one of the wrong kind or Undeposited Funds is a problem named with its fix; none set is a
// warning with the fix. The doctor function is the one `settle doctor` runs; real PostgreSQL, QuickBooks
// simulator over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctor } from '../../src/cli/doctor.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { ConnectorCache, readConnection, saveConnection } from '../../src/engine/connections.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let box: SecretBox;
let original: Record<string, unknown>;
beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 1 });
  box = SecretBox.fromHex(stack.secretKeyHex);
  original = (await readConnection(stack.database.db, box, stack.tenantId, 'accounting'))!.config;
}, 300_000);
afterAll(async () => stack?.close());

async function findings(): Promise<Map<string, { ok: boolean; warning?: true; detail: string }>> {
  const db = stack.database.db;
  const all = await doctor(db, new ConnectorCache(db, box), { box, publicUrl: stack.settleUrl, log: createLogger('silent') });
  return new Map(all.map((f) => [f.what.slice(stack.slug.length + 1), f]));
}

async function setBooksConfig(patch: Record<string, unknown>): Promise<void> {
  const conn = (await readConnection(stack.database.db, box, stack.tenantId, 'accounting'))!;
  const config = { ...original, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete config[k];
  await saveConnection(stack.database.db, box, stack.tenantId, {
    role: 'accounting',
    vendor: 'quickbooks-online',
    config,
    secrets: conn.secrets,
    actor: 'system:test',
  });
}

describe('settle doctor: the QuickBooks clearing account', () => {
  it('the demo wiring names an active "Settle clearing" Other Current Asset account, and the doctor is content', async () => {
    const id = String(original['clearingAccountId']);
    const account = stack.sims.quickbooks.sim.store.get('Account', id);
    expect(account).toMatchObject({ Name: 'Settle clearing', AccountType: 'Other Current Asset', Active: true });
    const f = await findings();
    expect(f.get('accounting accounts')).toMatchObject({ ok: true });
    expect(f.get('accounting accounts')!.detail).toContain('clearingAccountId "Settle clearing"');
    expect(f.get('accounting clearing account')).toMatchObject({ ok: true });
    expect(f.get('accounting clearing account')!.warning).toBeUndefined();
  });

  it('an inactive clearing account, one of the wrong kind, or Undeposited Funds is a problem named with its fix', async () => {
    const id = String(original['clearingAccountId']);
    const account = stack.sims.quickbooks.sim.store.get('Account', id);
    account['Active'] = false;
    try {
      const inactive = (await findings()).get('accounting accounts')!;
      expect(inactive.ok).toBe(false);
      expect(inactive.detail).toMatch(new RegExp(`clearingAccountId names "Settle clearing" \\(${id}\\), which is inactive in QuickBooks`));
      expect(inactive.detail).toContain('settle connect accounting quickbooks-online');
    } finally {
      account['Active'] = true;
    }
    try {
      await setBooksConfig({ clearingAccountId: stack.sims.quickbooks.sim.accounts.merchantFees });
      const wrongKind = (await findings()).get('accounting accounts')!;
      expect(wrongKind.ok).toBe(false);
      expect(wrongKind.detail).toMatch(/clearingAccountId names "Merchant Fees" \(\d+\), a Expense account; it must be Other Current Asset or Bank/);
      // …and names the accounts that would do (an Account query by AccountType), never Undeposited Funds.
      expect(wrongKind.detail).toMatch(/— Other Current Asset or Bank accounts in QuickBooks: .*"Checking" \(\d+\)/);
      expect(wrongKind.detail).not.toMatch(/"Undeposited Funds" \(/);

      await setBooksConfig({ clearingAccountId: stack.sims.quickbooks.sim.accounts.undepositedFunds });
      const uf = (await findings()).get('accounting accounts')!;
      expect(uf.ok).toBe(false);
      expect(uf.detail).toMatch(/the Undeposited Funds account; use an Other Current Asset account of its own/);

      await setBooksConfig({ clearingAccountId: '999999' });
      const missing = (await findings()).get('accounting accounts')!;
      expect(missing.ok).toBe(false);
      expect(missing.detail).toMatch(/clearingAccountId names account 999999, which QuickBooks does not have/);
    } finally {
      await setBooksConfig({});
    }
  });

  it('none set: a warning (not a failure) saying where the money goes instead and how to set one', async () => {
    try {
      await setBooksConfig({ clearingAccountId: undefined });
      const f = await findings();
      const w = f.get('accounting clearing account')!;
      expect(w).toMatchObject({ ok: true, warning: true });
      expect(w.detail).toMatch(/no clearingAccountId set: payout money whose payment is not in QuickBooks yet goes to the fee account/);
      expect(w.detail).toContain(`settle connect accounting quickbooks-online --workspace ${stack.slug}`);
      expect(w.detail).toContain('"clearingAccountId":"<id>"');
      expect(f.get('accounting accounts')).toMatchObject({ ok: true });
    } finally {
      await setBooksConfig({});
    }
  });
});
