import { describe, expect, it } from 'vitest';
import { actionWords, actorWords, detailChanges, subjectHref } from './audit-words.ts';
import { actorFilter, auditChips, decodeCursor, encodeCursor, parseAuditQuery } from './audit-filters.ts';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('audit log in words', () => {
  it('says what an action means, and shows an unknown one as written', () => {
    expect(actionWords('refund.requested')).toBe('Refund requested');
    expect(actionWords('something.new_in_v2')).toBe('something.new_in_v2');
  });

  it('names the actor from what was found, else from the actor string', () => {
    const names = new Map([[`user:${ID}`, 'Dana (dana@msp.test)']]);
    expect(actorWords(`user:${ID}`, names)).toBe('Dana (dana@msp.test)');
    expect(actorWords(`api_key:${ID}`, names)).toBe(`A deleted API key (${ID})`);
    expect(actorWords('system:payment-retry', names)).toBe('Settle (payment retry)');
    expect(actorWords('system:cli', names)).toBe('Settle (the command line)');
    expect(actorWords('vendor:stripe', names)).toBe('Stripe');
    expect(actorWords('odd', names)).toBe('odd');
  });

  it('links a record to its page only where there is one', () => {
    expect(subjectHref('payment', ID)).toBe(`/app/payments/${ID}`);
    expect(subjectHref('invoice', 'INV-1')).toBeNull();
    expect(subjectHref('connection', 'accounting')).toBe('/app/connections');
    expect(subjectHref('surcharge_quote', ID)).toBeNull();
  });

  it('reads a settings change as before → after in both shapes, leaving unchanged fields out', () => {
    expect(detailChanges({ before: { a_b: 1, same: [1] }, after: { a_b: 2, same: [1], added: 'x' } })).toEqual([
      { field: 'a b', from: '1', to: '2' },
      { field: 'added', from: '—', to: 'x' },
    ]);
    expect(detailChanges({ fee_account: { from: '1', to: '2', from_name: 'Old', to_name: 'New' }, bank: { from: '3', to: '3' } })).toEqual([
      { field: 'fee account', from: 'Old', to: 'New' },
    ]);
    expect(detailChanges({ amount_minor: '100' })).toEqual([]);
    expect(detailChanges(null)).toEqual([]);
  });
});

describe('audit log query string', () => {
  it('keeps valid filters and names what is wrong with the others', () => {
    const r = parseAuditQuery({ from: '2026-02-31', to: '2026-03-01', actor: 'user:nope', action: 'refund.requested', subject: 'p-1', q: ' 42 ' });
    expect(r.given).toEqual({ to: '2026-03-01', action: 'refund.requested', q: '42' });
    expect(r.errors.map((e) => e.field)).toEqual(['from', 'actor', 'subject_type']);
    expect(parseAuditQuery({ from: '2026-03-02', to: '2026-03-01' }).errors).toEqual([
      { field: 'to', message: 'The last day must be on or after the first day' },
    ]);
  });

  it('tells one actor from a kind of actor', () => {
    expect(actorFilter(parseAuditQuery({ actor: `api_key:${ID}` }).given)).toEqual({ actor: `api_key:${ID}` });
    expect(actorFilter(parseAuditQuery({ actor: 'system' }).given)).toEqual({ actorKind: 'system' });
    expect(parseAuditQuery({ actor: 'system:cli' }).errors).toHaveLength(1);
  });

  it('round-trips a cursor and ignores a forged one', () => {
    const c = { at: '2026-03-10T15:00:00.123456Z', id: '42' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor(Buffer.from(JSON.stringify(['2026-03-10', '42'])).toString('base64url'))).toBeNull();
    expect(decodeCursor(Buffer.from(JSON.stringify([c.at, '1; drop'])).toString('base64url'))).toBeNull();
    expect(decodeCursor('%%%')).toBeNull();
  });

  it('removes the record id with the record kind', () => {
    const chips = auditChips({ subject_type: 'payment', subject: ID, action: 'refund.requested' }, null);
    expect(chips.map((c) => c.label)).toEqual(['What: Refund requested', 'Record: Payment', `Id or number: ${ID}`]);
    expect(chips[1]!.href).toBe('/app/settings/audit?action=refund.requested');
  });
});
