import { describe, expect, it } from 'vitest';
import { processingFee } from './fees.ts';

describe('Stripe simulator fees', () => {
  it('charges cards 2.9% + 30¢, rounded half-up to the cent', () => {
    expect(processingFee('card', 10000n)).toBe(320n); // $100 → $3.20
    expect(processingFee('card', 1099n)).toBe(62n); // 31.871 → 32 + 30
    expect(processingFee('card', 50n)).toBe(31n); // 1.45 → 1 + 30
    expect(processingFee('card', 1724n)).toBe(80n); // 49.996 → 50 + 30
  });
  it('charges ACH 0.8% capped at $5', () => {
    expect(processingFee('us_bank_account', 10000n)).toBe(80n);
    expect(processingFee('us_bank_account', 62500n)).toBe(500n); // exactly at the cap
    expect(processingFee('us_bank_account', 1_000_000n)).toBe(500n);
    expect(processingFee('us_bank_account', 1063n)).toBe(9n); // 8.504 → 9
    expect(processingFee('us_bank_account', 1062n)).toBe(8n); // 8.496 → 8
  });
});
