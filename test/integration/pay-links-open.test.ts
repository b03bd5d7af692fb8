// "Write pay links for all open invoices" (engine/pay-links-open.ts) through the whole stack: real PostgreSQL,
// Settle's worker in this process, ConnectWise's simulator over HTTP. The first import made no links (the back
// catalogue is not written by itself); `settle pay-links write-open` queues one per open invoice and each is
// written into ConnectWise once; a second run queues nothing and writes nothing. Both runs are audited with
// their count. A workspace without a PSA gets a clear error and nothing is queued.
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { runPayLinksCommand } from '../../src/cli/pay-links.ts';
import { queueOpenInvoicePayLinks } from '../../src/engine/pay-links-open.ts';
import { UseCaseError } from '../../src/engine/context.ts';
import type { DemoPsa } from '../../src/cli/demo/psa-simulators.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { psaPayLinkText, psaPayLinkWrites } from './pay-links-helpers.ts';

let stack: Stack<DemoPsa> | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const T = 90_000;

describe('pay links for all open invoices', () => {
  it('queues one write per open invoice without a link; a second run queues and writes nothing', async () => {
    const s = (stack = (await startStack({ psa: 'connectwise', companies: 2, invoices: 3 })) as Stack<DemoPsa>);
    const db = s.database.db;
    const t = s.tenantId;
    const q = <R>(fn: Parameters<typeof withTenant<R>>[2]) => withTenant(db, t, fn);
    const open = await q((tx) =>
      tx
        .selectFrom('invoices as i')
        .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'i.id').on('r.entity', '=', 'invoice').on('r.system', '=', 'connectwise'))
        .select(['i.id', 'r.remote_id'])
        .where('i.status', 'in', ['open', 'partially_paid'])
        .execute(),
    );
    expect(open.length).toBeGreaterThanOrEqual(3);
    const links = () => q((tx) => tx.selectFrom('invoice_pay_links').selectAll().where('revoked_at', 'is', null).execute());
    expect(await links()).toHaveLength(0); // the first import made none

    const said: string[] = [];
    const code = await runPayLinksCommand(db, ['write-open'], parseArgs(['--workspace', s.slug]), (l) => said.push(l));
    expect(code).toBe(0);
    expect(said).toEqual([`${open.length} pay links queued for writing into ConnectWise, one invoice at a time.`]);

    await eventually(
      async () => {
        const l = await links();
        return l.length === open.length && l.every((x) => x.psa_state === 'written');
      },
      T,
      'every open invoice’s link written into ConnectWise',
    );
    for (const inv of open) {
      expect(await psaPayLinkWrites(s, inv.remote_id)).toBe(1);
      expect(psaPayLinkText(s, inv.remote_id)).toMatch(/\/pay\//);
    }

    // Again (the staff button, the same engine function): nothing new queued, nothing written.
    const again = await q((tx) => queueOpenInvoicePayLinks(tx, t, 'user:test'));
    expect(again).toEqual({ vendor: 'connectwise', queued: 0 });
    expect(await links()).toHaveLength(open.length);
    const waiting = await sql`SELECT 1 FROM graphile_worker.jobs WHERE task_identifier = 'write-pay-link'`.execute(db);
    expect(waiting.rows).toHaveLength(0);
    for (const inv of open) expect(await psaPayLinkWrites(s, inv.remote_id)).toBe(1);

    const audited = await q((tx) =>
      tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'pay_link.open_invoices_queued').orderBy('created_at').execute(),
    );
    expect(audited).toEqual([
      { actor: 'system:cli', detail: { vendor: 'connectwise', queued: open.length } },
      { actor: 'user:test', detail: { vendor: 'connectwise', queued: 0 } },
    ]);
  }, 240_000);

  it('refuses with a clear error when no PSA is connected, queuing nothing', async () => {
    const s = (stack = (await startStack({ psa: 'connectwise', companies: 1, invoices: 1 })) as Stack<DemoPsa>);
    const t = s.tenantId;
    await withTenant(s.database.db, t, (tx) => tx.updateTable('connections').set({ status: 'disabled' }).where('role', '=', 'psa').execute());
    const err = await withTenant(s.database.db, t, (tx) => queueOpenInvoicePayLinks(tx, t, 'user:test')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UseCaseError);
    expect((err as Error).message).toMatch(/No PSA is connected: connect your PSA first/);
    const n = await withTenant(s.database.db, t, (tx) => tx.selectFrom('invoice_pay_links').select('id').execute());
    expect(n).toHaveLength(0);
  }, 120_000);
});
