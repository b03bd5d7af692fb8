import { describe, expect, it } from 'vitest';
import {
  approvalCovers,
  approvalReasons,
  candidateRules,
  chargeDate,
  holdAfterNotice,
  matchRule,
  noticeChange,
  noticeDueOn,
  type AutopayRule,
  type InvoiceFacts,
} from './autopay.ts';

const rule = (id: string, over: Partial<AutopayRule> = {}): AutopayRule => ({
  id,
  clientId: null,
  position: 100,
  enabled: true,
  invoiceTypes: null,
  lineKinds: null,
  currency: null,
  approvalCapMinor: null,
  anchor: 'due_date',
  offsetDays: 0,
  methodKinds: ['card', 'us_bank_account'],
  noticeDays: null,
  ...over,
});
const invoice: InvoiceFacts = { type: 'agreement', currency: 'USD', lineKinds: ['product'], issuedOn: '2025-06-01', dueOn: '2025-07-01' };

describe('rule order and matching', () => {
  it("tries the client's own rules before the workspace's, each by position", () => {
    const rules = [
      rule('w2', { position: 2 }),
      rule('c9', { clientId: 'c', position: 9 }),
      rule('w1', { position: 1 }),
      rule('other', { clientId: 'x', position: 0 }),
      rule('c1', { clientId: 'c', position: 1 }),
    ];
    expect(candidateRules(rules, 'c', null).map((r) => r.id)).toEqual(['c1', 'c9', 'w1', 'w2']);
  });

  it('a client locked to a rule is matched against that rule only (a disabled lock means no autopay)', () => {
    const rules = [rule('a', { position: 1 }), rule('b', { position: 2, invoiceTypes: ['standard'] })];
    expect(matchRule(rules, 'c', 'b', invoice)).toBeNull();
    expect(matchRule(rules, 'c', null, invoice)?.rule.id).toBe('a');
    expect(matchRule([rule('a', { enabled: false }), rule('z')], 'c', 'a', invoice)).toBeNull();
    expect(candidateRules([rule('mine', { clientId: 'other' })], 'c', 'mine')).toEqual([]);
  });

  it('first match wins: types, line kinds (every line), currency, disabled rules skipped', () => {
    const rules = [
      rule('off', { position: 0, enabled: false }),
      rule('std', { position: 1, invoiceTypes: ['standard'] }),
      rule('cad', { position: 2, currency: 'CAD' }),
      rule('time', { position: 3, lineKinds: ['time'] }),
      rule('agr', { position: 4, invoiceTypes: ['agreement'], lineKinds: ['product', 'other'] }),
    ];
    expect(matchRule(rules, 'c', null, invoice)?.rule.id).toBe('agr');
    expect(matchRule(rules, 'c', null, { ...invoice, lineKinds: ['product', 'time'] })).toBeNull();
    expect(matchRule(rules, 'c', null, { ...invoice, lineKinds: [] })).toBeNull();
  });

  it('charge date: due date or invoice date plus offset; no due date → that rule does not match', () => {
    expect(chargeDate(rule('a', { offsetDays: -3 }), invoice)).toBe('2025-06-28');
    expect(chargeDate(rule('a', { anchor: 'invoice_date', offsetDays: 5 }), invoice)).toBe('2025-06-06');
    const noDue = { ...invoice, dueOn: null };
    expect(matchRule([rule('due'), rule('inv', { anchor: 'invoice_date', position: 200 })], 'c', null, noDue)).toEqual({
      rule: expect.objectContaining({ id: 'inv' }),
      chargeOn: '2025-06-01',
    });
  });
});

describe('approval gates', () => {
  const base = { amountMinor: 10_000n, capMinor: null, totalMinor: 10_000n, previousTotalMinor: null, jumpPercent: null };
  it('over the rule cap', () => {
    expect(approvalReasons({ ...base, capMinor: 10_000n })).toEqual([]);
    expect(approvalReasons({ ...base, capMinor: 9_999n })).toEqual(['over_cap']);
  });
  it('a jump of more than X % against the previous invoice (exactly X % passes)', () => {
    expect(approvalReasons({ ...base, totalMinor: 15_000n, previousTotalMinor: 10_000n, jumpPercent: 50 })).toEqual([]);
    expect(approvalReasons({ ...base, totalMinor: 15_001n, previousTotalMinor: 10_000n, jumpPercent: 50 })).toEqual(['amount_jump']);
    expect(approvalReasons({ ...base, totalMinor: 99_999n, previousTotalMinor: null, jumpPercent: 50 })).toEqual([]);
    expect(approvalReasons({ ...base, totalMinor: 99_999n, previousTotalMinor: 0n, jumpPercent: 50 })).toEqual([]);
    expect(approvalReasons({ ...base, totalMinor: 99_999n, previousTotalMinor: 10n, jumpPercent: null })).toEqual([]);
    expect(approvalReasons({ ...base, amountMinor: 20_000n, capMinor: 1n, totalMinor: 20_000n, previousTotalMinor: 1_000n, jumpPercent: 0 })).toEqual([
      'over_cap',
      'amount_jump',
    ]);
  });
  it('an approval covers its amount or less', () => {
    expect(approvalCovers(100n, 100n)).toBe(true);
    expect(approvalCovers(100n, 99n)).toBe(true);
    expect(approvalCovers(100n, 101n)).toBe(false);
  });
});

describe('notice and hold', () => {
  it('the notice goes out notice_days before the charge date', () => {
    expect(noticeDueOn('2025-07-01', 3)).toBe('2025-06-28');
    expect(noticeDueOn('2025-07-01', 0)).toBe('2025-07-01');
  });
  it('classifies what changed since the notice', () => {
    const n = { version: 1, amountMinor: 100n, notBefore: '2025-07-01' };
    expect(noticeChange(null, { version: 1, amountMinor: 100n })).toBe('first');
    expect(noticeChange(n, { version: 1, amountMinor: 100n })).toBe('none');
    expect(noticeChange(n, { version: 2, amountMinor: 100n })).toBe('content_changed');
    expect(noticeChange(n, { version: 2, amountMinor: 150n })).toBe('increased');
    expect(noticeChange(n, { version: 1, amountMinor: 50n })).toBe('decreased');
  });
  it('a first notice or an increase restarts the full hold; a decrease or a content change keeps the date', () => {
    const prev = { version: 1, amountMinor: 100n, notBefore: '2025-07-01' };
    expect(holdAfterNotice('first', '2025-07-01', '2025-06-28', 3, null)).toBe('2025-07-01');
    expect(holdAfterNotice('first', '2025-07-01', '2025-06-30', 3, null)).toBe('2025-07-03'); // late notice: still 3 full days
    expect(holdAfterNotice('increased', '2025-07-01', '2025-06-30', 3, prev)).toBe('2025-07-03');
    expect(holdAfterNotice('decreased', '2025-07-01', '2025-06-30', 3, prev)).toBe('2025-07-01');
    expect(holdAfterNotice('content_changed', '2025-07-01', '2025-06-30', 3, prev)).toBe('2025-07-01');
    expect(holdAfterNotice('first', '2025-07-01', '2025-07-01', 0, null)).toBe('2025-07-01');
  });
});
