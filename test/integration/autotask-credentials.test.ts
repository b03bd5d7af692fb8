// Autotask refusing Settle's API user (a secret changed at Autotask): the poll fails with one exception that
// says where the credentials live and how to enter them again, and the next poll that gets through closes it
// (engine/psa-credentials.ts). HaloPSA's wrong client secret: halopsa-guarantees.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { saveConnection } from '../../src/engine/connections.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import type { Stack } from '../helpers/stack.ts';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../simulators/autotask/index.ts';
import { psaWorkspace } from './psa-guard-helpers.ts';

let stack: Stack | null = null;
let at: RunningAutotaskSimulator | null = null;
afterEach(async () => {
  await stack?.close();
  await at?.close();
  [stack, at] = [null, null];
});

describe('Autotask credentials refused', () => {
  it('a wrong secret: an exception naming the API user and how to fix it, closed by the next poll that gets through', async () => {
    at = await startAutotaskSimulator({ seed: { companies: 1, invoices: 2 }, limits: { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 } });
    const w = await psaWorkspace({ vendor: 'autotask', sim: at });
    stack = w.stack;
    const save = (secret: string) =>
      saveConnection(w.db, w.box, w.tenantId, {
        role: 'psa',
        vendor: 'autotask',
        config: { username: at!.credentials.username, integrationCode: at!.credentials.integrationCode, globalUrl: at!.baseUrl },
        secrets: { secret },
        actor: 'system:test',
      });
    await save('not-the-secret');
    w.connectors.forget(w.tenantId);
    await expect(syncPsa(w.ctx, w.tenantId)).rejects.toMatchObject({ kind: 'auth' });
    const open = () =>
      withTenant(w.db, w.tenantId, (tx) =>
        tx.selectFrom('exceptions').select(['id', 'kind', 'title', 'detail', 'status']).where('kind', '=', 'psa_credentials_refused').execute(),
      );
    const [e] = await open();
    expect(e).toMatchObject({ status: 'open', title: "Autotask refuses Settle's credentials" });
    expect(e!.detail).toMatch(/API user/);
    expect(e!.detail).toMatch(/settle connect psa autotask/);
    // A second refused poll refreshes the same exception rather than adding one.
    await expect(syncPsa(w.ctx, w.tenantId)).rejects.toMatchObject({ kind: 'auth' });
    expect(await open()).toHaveLength(1);

    await save(at.credentials.secret);
    w.connectors.forget(w.tenantId);
    expect((await syncPsa(w.ctx, w.tenantId)).invoices).toBe(2);
    expect((await open()).map((r) => r.status)).toEqual(['resolved']);
  }, 180_000);
});
