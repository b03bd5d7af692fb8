import { describe, expect, it } from 'vitest';
import { navFor } from './nav.ts';

describe('the staff navigation', () => {
  const current = (path: string): string | undefined => navFor('owner', path).find((e) => e.current)?.label;

  it('marks the area of the page: the longest entry that prefixes the path', () => {
    expect(current('/app')).toBe('Dashboard');
    expect(current('/app/invoices')).toBe('Invoices');
    expect(current('/app/invoices/3f1c')).toBe('Invoices');
    expect(current('/app/overview')).toBe('Dashboard');
    expect(current('/app/attention')).toBe('Needs attention');
    // Pages kept at their old addresses belong to Settings.
    expect(current('/users')).toBe('Settings');
    expect(current('/account')).toBe('Settings');
    // Not a prefix match on a partial segment.
    expect(current('/app/invoicesx')).toBe('Dashboard');
    expect(current('/login')).toBeUndefined();
  });

  it('marks exactly one entry at most, and only the attention entry carries the badge', () => {
    for (const path of ['/app', '/app/payments/1', '/api-keys', '/nowhere']) {
      expect(navFor('viewer', path).filter((e) => e.current).length).toBeLessThanOrEqual(1);
    }
    expect(
      navFor('viewer', '/app')
        .filter((e) => e.badge === 'attention')
        .map((e) => e.href),
    ).toEqual(['/app/attention']);
  });
});
