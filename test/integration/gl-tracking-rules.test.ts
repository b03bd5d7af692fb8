// The GL mapping's rules by PSA field (issue #11 "For every ledger"), end to end on real PostgreSQL and the
// QuickBooks Online simulator over HTTP: the ledger's live chart is read through the connector's readChart;
// a rule "managed services → location West office, class Projects" is saved through the engine path the
// settings page uses (checked against the live lists, audited); a payment for a managed-services invoice is
// posted with the West office, one for an invoice under no contract with the workspace-wide East office; the
// refund of the first carries the rule's class and location on its journal entry. A rule naming an option the
// books no longer have is refused and changes nothing; one made inactive afterwards is reported by the doctor
// row with its fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { BOOKS_ACCOUNT_SETTINGS, saveBooksAccounts } from '../../src/engine/books-accounts.ts';
import { readTrackingRules, ruleField, saveTrackingRules } from '../../src/engine/gl-mapping.ts';
import { doctor } from '../../src/cli/doctor.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { ConnectorCache } from '../../src/engine/connections.ts';
import { eventually, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { addDays, newCompany, newInvoice, product, todayUtc } from '../helpers/autopay.ts';
import { money } from '../../src/domain/money.ts';

type Json = Record<string, any>;
let stack: Stack;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 2 });
  key = await stack.apiKey();
}, 300_000);
afterAll(async () => stack?.close());

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const postings = (paymentId: string) => q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).execute());
const booksPosted = (paymentId: string, kind = 'payment') =>
  eventually(
    async () => (await postings(paymentId)).find((p) => p.target === 'accounting' && p.kind === kind && p.status === 'posted'),
    90_000,
    `${kind} of ${paymentId} in QuickBooks`,
  );

describe('class and location by contract kind', () => {
  it(
    'reads the chart through the connector, saves rules, and posts each invoice’s payment and refund with its own location and class',
    { timeout: 300_000 },
    async () => {
      const qbo = stack.sims.quickbooks.sim;
      qbo.setTracking({ classes: 'line', departments: true });
      const projects = qbo.ensureTracking('Class', 'Projects');
      const east = qbo.ensureTracking('Department', 'East office');
      const west = qbo.ensureTracking('Department', 'West office');
      const deps = { db: stack.database.db, box: SecretBox.fromHex(stack.secretKeyHex), connectors: stack.settle!.ctx.connectors };

      // The ledger-neutral chart, as any ledger's connector gives it.
      const books = (await deps.connectors.accounting(stack.tenantId))!;
      const chart = await books.readChart!();
      expect(chart.accounts.find((a) => a.type === 'Bank')?.fits).toContain('bank');
      expect(chart.dimensions.map((d) => [d.key, d.on])).toEqual([
        ['class', true],
        ['location', true],
      ]);
      expect(chart.dimensions[1]!.options.map((o) => o.name)).toEqual(['East office', 'West office']);

      // Workspace-wide: the East office.
      const config = (await q((tx) => tx.selectFrom('connections').select('config').where('role', '=', 'accounting').executeTakeFirstOrThrow())).config as Json;
      const accounts = Object.fromEntries(BOOKS_ACCOUNT_SETTINGS.map((st) => [st.key, typeof config[st.key] === 'string' ? String(config[st.key]) : '']));
      await saveBooksAccounts(deps, stack.tenantId, { ...accounts, departmentId: east.Id }, 'system:test');

      // A rule naming a location the books do not have: refused, nothing stored.
      await expect(saveTrackingRules(deps, stack.tenantId, { [ruleField('managed_services', 'location')]: '9999' }, 'user:test')).rejects.toThrow(
        /9999 is not an active location/,
      );
      expect(await q((tx) => readTrackingRules(tx))).toEqual([]);

      // Managed services → West office, class Projects.
      const saved = await saveTrackingRules(
        deps,
        stack.tenantId,
        { [ruleField('managed_services', 'location')]: west.Id, [ruleField('managed_services', 'class')]: projects.Id, [ruleField('project', 'class')]: '' },
        'user:test',
      );
      expect(saved.changed.sort()).toEqual(['rule.managed_services.class', 'rule.managed_services.location']);
      const audit = await q((tx) => tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'connection.tracking_rules_changed').execute());
      expect(audit).toHaveLength(1);
      expect(audit[0]!.detail).toMatchObject({ 'rule.managed_services.location': { from: null, to: west.Id, to_name: 'West office' } });
      // Saving the same again changes nothing and audits nothing.
      expect(
        (
          await saveTrackingRules(
            deps,
            stack.tenantId,
            { [ruleField('managed_services', 'location')]: west.Id, [ruleField('managed_services', 'class')]: projects.Id },
            'user:test',
          )
        ).changed,
      ).toEqual([]);

      // A managed-services agreement invoice and a plain one, each made in the PSA and exported to the books.
      const cw = stack.sims.connectwise.state;
      const managedCo = newCompany(stack, 'Rules Managed Co');
      const agreement = cw.addAgreement(managedCo, 'Rules Managed IT', 150_000n, addDays(todayUtc(), -90));
      const managed = await newInvoice(stack, managedCo, {
        type: 'Agreement',
        lines: [{ kind: 'product', description: 'Managed IT', quantity: 1, price: '1500.00', under: { agreementId: agreement.id } }],
      });
      const plain = await newInvoice(stack, newCompany(stack, 'Rules Plain Co'), { lines: [product('Cabling', '250.00')] });
      for (const [inv, name] of [
        [managed, 'Rules Managed Co'],
        [plain, 'Rules Plain Co'],
      ] as const)
        qbo.seedInvoice({ docNumber: inv.number, customerName: name, amount: money(inv.totalMinor, 'USD'), txnDate: todayUtc() });
      const kinds = await q((tx) => tx.selectFrom('invoice_lines').select('contract_kind').where('invoice_id', '=', managed.id).execute());
      expect(kinds.map((k) => k.contract_kind)).toEqual(['managed_services']);

      const paidManaged = await payInPortal(stack, await stack.portalToken(managed.clientId), [managed.id]);
      const managedPosting = await booksPosted(paidManaged.paymentId);
      const paidPlain = await payInPortal(stack, await stack.portalToken(plain.clientId), [plain.id]);
      const plainPosting = await booksPosted(paidPlain.paymentId);
      const inBooks = (id: string | null) => qbo.payments().find((p) => p.Id === id) as Json;
      expect(inBooks(managedPosting.remote_id)['DepartmentRef']).toEqual({ value: west.Id, name: 'West office' });
      expect(inBooks(plainPosting.remote_id)['DepartmentRef']).toEqual({ value: east.Id, name: 'East office' });

      // A refund of the managed-services payment: its journal entry carries the rule's location and class.
      const res = await fetch(`${stack.settleUrl}/api/v1/payments/${paidManaged.paymentId}/refunds`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'gl-rules-refund-1' },
        body: JSON.stringify({ amount_minor: '1000', reason: 'one seat cancelled' }),
      });
      expect(res.status).toBeLessThan(300);
      await booksPosted(paidManaged.paymentId, 'refund');
      const je = qbo.journalEntries().at(-1) as Json;
      expect(je['DepartmentRef']).toEqual({ value: west.Id, name: 'West office' });
      for (const line of je['Line'] as Json[])
        expect(line['JournalEntryLineDetail']).toMatchObject({ ClassRef: { value: projects.Id, name: 'Projects' }, DepartmentRef: { value: west.Id } });

      // The doctor: fine now; once the West office is made inactive in QuickBooks, the rule is named with its fix.
      const row = async () => {
        const db = stack.database.db;
        const all = await doctor(db, new ConnectorCache(db, deps.box), { box: deps.box, publicUrl: stack.settleUrl, log: createLogger('silent') });
        return all.find((f) => f.what === `${stack.slug} accounting mapping rules`)!;
      };
      expect(await row()).toMatchObject({ ok: true, detail: '2 class / location rules by contract kind in place' });
      qbo.setTrackingActive('Department', west.Id, false);
      const bad = await row();
      expect(bad.ok).toBe(false);
      expect(bad.detail).toContain('the location “West office”');
      expect(bad.detail).toContain(
        'is no longer active in the books: choose another or “Workspace default” for “Managed services (recurring agreement)” in Settings → Accounts',
      );
    },
  );
});
