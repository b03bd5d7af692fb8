// Issue #11, QuickBooks Desktop classes: the Web Connector's chart read brings the company file's classes
// (ClassQuery after AccountQuery), offered as the "Class" dimension of the GL mapping's rules by contract kind —
// the same model as QuickBooks Online's class / location — so the staff app's rule pickers list them and saving
// a rule checks the choice against them; a refund's reversal entry carries the invoice's class on both lines
// (JournalDebitLine / JournalCreditLine ClassRef); `settle doctor` names a rule whose class is no longer active;
// and a class made inactive after the mapping makes QuickBooks refuse the entry with its own words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQbdDirect, type QbdDirect } from '../helpers/qbd-web-connector.ts';
import { money } from '../../src/domain/money.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { WaitingForWebConnector } from '../../src/connectors/accounting/quickbooks-desktop/chart.ts';
import { mappableDimensions, readTrackingRules, ruleField, saveTrackingRules } from '../../src/engine/gl-mapping.ts';
import { checkGlMapping } from '../../src/engine/gl-mapping-checks.ts';
import { DoctorProblem } from '../../src/engine/vendor-checks.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';
import type { TenantConnectors } from '../../src/engine/context.ts';

let q: QbdDirect;
const usd = (minor: bigint) => money(minor, 'USD');
beforeAll(async () => {
  q = await startQbdDirect('qbd-classes');
  q.sim.company.addClass('Managed Services');
  q.sim.company.addClass('Projects');
  q.sim.company.addInvoice({ refNumber: 'C-100', customer: 'Acme Dental', amountCents: 40_000n });
}, 120_000);
afterAll(async () => q?.close());

const deps = () => ({ db: q.t.db, connectors: { accounting: async () => q.books } as unknown as TenantConnectors });
const run = async () => expect((await q.sim.webConnector.runNow()).outcome).toBe('done');
const reverse = (key: string, classId: string) =>
  q.books.reversePayment({
    idempotencyKey: key,
    paymentRemoteId: 'P-1',
    invoiceNumber: 'C-100',
    amount: usd(5_000n),
    reversedOn: '2026-12-07',
    memo: 'Settle refund',
    tracking: { class: classId },
  });

describe('QuickBooks Desktop classes in the GL mapping', () => {
  let managed: string;

  it('the chart read brings the classes: the Class dimension lists the active ones', async () => {
    await expect(q.books.readChart()).rejects.toThrow(WaitingForWebConnector);
    const from = q.sim.webConnector.requests.length;
    await run();
    const sent = q.sim.webConnector.requests.slice(from).join('\n');
    expect(sent).toContain('<AccountQueryRq');
    expect(sent).toMatch(/<ClassQueryRq [^>]*><ActiveStatus>ActiveOnly<\/ActiveStatus><\/ClassQueryRq>/);
    const chart = await q.books.readChart();
    const [cls] = mappableDimensions(chart);
    expect(cls).toMatchObject({ key: 'class', label: 'Class', on: true });
    expect(cls!.options.map((o) => o.name)).toEqual(['Managed Services', 'Projects']);
    managed = cls!.options.find((o) => o.name === 'Managed Services')!.id;
    expect(managed).toBe(q.sim.company.classOf({ fullName: 'Managed Services' })!.listId);
  }, 120_000);

  it('a rule by contract kind is saved only with a class the company file has', async () => {
    await expect(saveTrackingRules(deps(), q.tenant, { [ruleField('managed_services', 'class')]: 'NOT-A-CLASS' }, 'system:test')).rejects.toThrow(
      /is not an active class in the books/,
    );
    expect(await saveTrackingRules(deps(), q.tenant, { [ruleField('managed_services', 'class')]: managed }, 'system:test')).toEqual({
      changed: [ruleField('managed_services', 'class')],
    });
    const rules = await withTenant(q.t.db, q.tenant, (tx) => readTrackingRules(tx));
    expect(rules).toEqual([{ psaValue: 'managed_services', dimension: 'class', optionId: managed, optionName: 'Managed Services' }]);
    expect(await checkGlMapping(q.books, {}, rules, { accounts: false })).toMatch(/1 class \/ location rule by contract kind in place/);
  });

  it('a reversal entry carries the invoice’s class on both lines', async () => {
    await reverse('refund:class-1', managed);
    await run(); // the invoice look-up, then the journal entry, in one Web Connector run
    const r = await reverse('refund:class-1', managed);
    expect(r.ok).toBe(true);
    const je = q.sim.company.journals.find((j) => j.debits.some((l) => l.memo.includes('invoice C-100')))!;
    expect([...je.debits, ...je.credits].map((l) => l.className)).toEqual(['Managed Services', 'Managed Services']);
  }, 120_000);

  it('a class made inactive: settle doctor names the rule; QuickBooks refuses an entry naming it, with its own words', async () => {
    q.sim.company.classOf({ fullName: 'Managed Services' })!.active = false;
    // The chart is re-read when it is an hour old; make it so, and let the Web Connector bring it.
    await withTenant(q.t.db, q.tenant, (tx) =>
      tx
        .updateTable('qbd_chart' as never)
        .set({ read_at: new Date(Date.now() - 2 * 3_600_000) } as never)
        .execute(),
    );
    await q.books.readChart();
    await run();
    const rules = await withTenant(q.t.db, q.tenant, (tx) => readTrackingRules(tx));
    const doctor = checkGlMapping(q.books, {}, rules, { accounts: false });
    await expect(doctor).rejects.toThrow(DoctorProblem);
    await expect(doctor).rejects.toThrow(/class “Managed Services” \(id [^)]+\) that the rule for “[^”]+” maps is no longer active in the books/);

    await reverse('refund:class-2', managed);
    await run();
    const r = await reverse('refund:class-2', managed);
    expect(r).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/status 3140.*invalid reference to QuickBooks Class/) });
  }, 120_000);

  it('every qbXML document the Web Connector carried is valid against qbxmlops130.xsd', async () => {
    expect((await validateQbxml(q.sim.webConnector.requests)).errors).toEqual([]);
  }, 120_000);
});
