// Settle is killed with SIGKILL right after ConnectWise took an invoice's pay link (crash point
// `after-pay-link-written`: the PSA's custom field holds the link, Settle's record still says `pending`) and
// started again. The killed write-pay-link job runs again; it reads the field first, finds the link there and
// writes nothing — so the PSA took exactly one write — and Settle records the link as written.
// Without the read-before-write (connectors/psa/connectwise/pay-link.ts) the retry would PATCH again: two writes.
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { createPayLink } from '../../src/engine/pay-links.ts';
import type { DemoPsa } from '../../src/cli/demo/psa-simulators.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { freePort } from '../helpers/ports.ts';
import { psaPayLinkText, psaPayLinkWrites } from './pay-links-helpers.ts';

let stack: Stack<DemoPsa> | null = null;
let running: SettleProcess | null = null;
afterEach(async () => {
  running?.child.kill('SIGKILL');
  await running?.exited;
  running = null;
  await stack?.close();
  stack = null;
});

describe('SIGKILL after the PSA took a pay link, then restart', () => {
  it('killed at after-pay-link-written: the link is in ConnectWise once and Settle records it written', async () => {
    const port = await freePort();
    const s = (stack = (await startStack({ psa: 'connectwise', settle: false, settlePort: port, companies: 1, invoices: 1 })) as Stack<DemoPsa>);
    const t = s.tenantId;
    const q = <R>(fn: Parameters<typeof withTenant<R>>[2]) => withTenant(s.database.db, t, fn);
    running = await startSettleProcess(s, port, { SETTLE_CRASH_AT: 'after-pay-link-written' });

    // An open invoice from the first import (so no link of its own): staff's "Create pay link" queues the write.
    const inv = await q((tx) =>
      tx
        .selectFrom('invoices as i')
        .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'i.id').on('r.entity', '=', 'invoice').on('r.system', '=', 'connectwise'))
        .select(['i.id', 'r.remote_id'])
        .where('i.status', 'in', ['open', 'partially_paid'])
        .orderBy('i.number')
        .executeTakeFirstOrThrow(),
    );
    expect(await psaPayLinkWrites(s, inv.remote_id)).toBe(0);
    const link = await q((tx) => createPayLink(tx, t, inv.id, 'user:test'));

    const how = await Promise.race([running.exited, new Promise((r) => setTimeout(() => r('still running'), 40_000))]);
    expect(how, running.output()).toBe('SIGKILL');
    expect(running.output()).toContain('SETTLE_CRASH_AT=after-pay-link-written');
    // The PSA holds the link; Settle's record does not say so.
    expect(await psaPayLinkWrites(s, inv.remote_id)).toBe(1);
    const url = psaPayLinkText(s, inv.remote_id);
    expect(url).toMatch(new RegExp(`/pay/${t}\\.${link.id}\\.`));
    const before = await q((tx) => tx.selectFrom('invoice_pay_links').selectAll().where('id', '=', link.id).executeTakeFirstOrThrow());
    expect(before.psa_state).not.toBe('written');

    running = await startSettleProcess(s, port);
    const after = await eventually(
      async () => {
        const row = await q((tx) => tx.selectFrom('invoice_pay_links').selectAll().where('id', '=', link.id).executeTakeFirstOrThrow());
        return row.psa_state === 'written' ? row : null;
      },
      60_000,
      'the link recorded as written after the restart',
    );
    expect(after.psa_vendor).toBe('connectwise');
    expect(await psaPayLinkWrites(s, inv.remote_id)).toBe(1); // exactly once in the PSA
    expect(psaPayLinkText(s, inv.remote_id)).toBe(url);
    const audited = await q((tx) =>
      tx
        .selectFrom('audit_log')
        .select(sql<boolean>`(detail->>'already_there')::boolean`.as('already'))
        .where('action', '=', 'pay_link.written_to_psa')
        .where('subject_id', '=', inv.id)
        .execute(),
    );
    expect(audited).toEqual([{ already: true }]);
    // Generous: two Settle processes start here, on a busy machine.
  }, 180_000);
});
