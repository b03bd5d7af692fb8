import { describe, expect, it } from 'vitest';
import { isValidRoutingNumber, looksLikeRoutingNumber, routingCheckDigit } from './routing.ts';

describe('routing numbers', () => {
  it('computes the 3-7-1 check digit', () => {
    expect(routingCheckDigit('23138010')).toBe(4); // fixtures README: RDFI 23138010 → 4
    expect(routingCheckDigit('12104288')).toBe(2);
    expect(routingCheckDigit('07590057')).toBe(5);
    expect(routingCheckDigit('02100002')).toBe(1);
  });

  it('accepts valid and rejects invalid 9-digit numbers', () => {
    expect(isValidRoutingNumber('231380104')).toBe(true);
    expect(isValidRoutingNumber('231380105')).toBe(false);
    expect(isValidRoutingNumber('191001234')).toBe(false); // return_noc.txt destination
    expect(isValidRoutingNumber('23138010')).toBe(false);
    expect(isValidRoutingNumber('2313801O4')).toBe(false);
    expect(routingCheckDigit('2313801A')).toBeNull();
  });

  it('reads file-header style destinations', () => {
    expect(looksLikeRoutingNumber('231380104')).toBe(true);
    expect(looksLikeRoutingNumber('0231380104')).toBe(true);
    expect(looksLikeRoutingNumber('YYYYYYYYY')).toBe(false);
  });
});
