import { describe, expect, it } from 'vitest';
import { StripeApiError } from './errors.ts';
import { matches, parseQuery, SEARCHABLE } from './search.ts';

const fields = SEARCHABLE.payment_intents;
const pi = { amount: 1500, status: 'succeeded', currency: 'usd', customer: 'cus_1', metadata: { settle_attempt: 'att_1', 'invoice no': 'INV-9' } };

describe('Stripe search query language (subset)', () => {
  it('matches metadata with single or double quotes', () => {
    expect(matches(pi, parseQuery("metadata['settle_attempt']:'att_1'", fields))).toBe(true);
    expect(matches(pi, parseQuery('metadata["settle_attempt"]:"att_2"', fields))).toBe(false);
    expect(matches(pi, parseQuery("metadata['invoice no']:'INV-9'", fields))).toBe(true);
  });
  it('joins clauses with AND / OR and supports negation and comparisons', () => {
    expect(matches(pi, parseQuery("status:'succeeded' AND amount>1000", fields))).toBe(true);
    expect(matches(pi, parseQuery("status:'processing' AND amount>1000", fields))).toBe(false);
    expect(matches(pi, parseQuery("status:'processing' OR amount>=1500", fields))).toBe(true);
    expect(matches(pi, parseQuery("-status:'succeeded'", fields))).toBe(false);
  });
  it('rejects mixed AND/OR, unknown fields and garbage with a 400', () => {
    for (const q of ["status:'a' AND amount>1 OR currency:'usd'", "bogus:'x'", 'metadata[x]:1', '']) {
      expect(() => parseQuery(q, fields)).toThrow(StripeApiError);
    }
  });
});
