// A running Settle (`settle start` as a child process) on a fresh real PostgreSQL database with one workspace,
// its owner and two clients — no vendor simulators: the limits and CSRF checks sit in front of every handler,
// so these tests need Settle's doors, not its vendors. Environment variables set the limits under test.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApiKey, createWorkspace } from '../../src/cli/workspace.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { portalLinkFor } from '../../src/http/portal/links.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/ports.ts';
import { startSettleCommand, type SettleProcess } from '../helpers/settle-process.ts';

export const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };

export interface LeanSettle {
  readonly base: string;
  readonly database: TestDatabase;
  readonly tenantId: string;
  readonly clientIds: readonly string[];
  readonly settle: SettleProcess;
  /** Environment for a `settle` CLI command against the same database. */
  readonly env: Record<string, string>;
  apiKey(): Promise<string>;
  portalToken(clientId: string): Promise<string>;
  addUser(u: { email: string; password: string; role: 'owner' | 'finance' | 'viewer' }): Promise<void>;
  close(): Promise<void>;
}

export async function startLeanSettle(env: Record<string, string>): Promise<LeanSettle> {
  const database = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-sec-'));
  const secretKeyHex = crypto.randomBytes(32).toString('hex');
  const tenantId = await createWorkspace(database.db, {
    slug: OWNER.workspace,
    name: 'Acme IT',
    adminEmail: OWNER.email,
    adminPassword: OWNER.password,
    actor: 'system:test',
  });
  const clientIds = await withTenant(database.db, tenantId, async (tx) => {
    const rows = await tx
      .insertInto('clients')
      .values(['Bayside Dental', 'Cobalt Law'].map((name, i) => ({ tenant_id: tenantId, name, identifier: `C${i + 1}`, billing_email: `ap${i}@client.test` })))
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  });
  const cliEnv = { DATABASE_URL: database.url, SETTLE_SECRET_KEY: secretKeyHex, SETTLE_DATA_DIR: dataDir };
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let settle: SettleProcess;
  try {
    settle = await startSettleCommand(port, { ...cliEnv, PUBLIC_URL: base, ...env }, { readyTimeoutMs: 90_000 });
  } catch (e) {
    await database.drop();
    throw e;
  }
  return {
    base,
    database,
    tenantId,
    clientIds,
    settle,
    env: cliEnv,
    apiKey: () => createApiKey(database.db, tenantId, 'test', 'system:test'),
    portalToken: (clientId) =>
      withTenant(
        database.db,
        tenantId,
        async (tx) => (await portalLinkFor(tx, base, tenantId, clientId, 3600, SecretBox.fromHex(secretKeyHex))).url.split('/portal/')[1]!,
      ),
    addUser: async (u) => {
      const password_hash = await hashPassword(u.password);
      await withTenant(database.db, tenantId, (tx) =>
        tx.insertInto('users').values({ tenant_id: tenantId, email: u.email, name: u.role, role: u.role, password_hash }).execute(),
      );
    },
    close: async () => {
      settle.child.kill('SIGTERM');
      await settle.exited;
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
