// ABA routing numbers: 8 digits (the DFI identification that NACHA records and entry hashes use) plus
// a check digit. Check digit = (10 - (3·d1 + 7·d2 + d3 + 3·d4 + 7·d5 + d6 + 3·d7 + 7·d8) mod 10) mod 10
// (Nacha Operating Rules, Appendix Three; the fixtures README recomputes it the same way).

const WEIGHTS = [3, 7, 1, 3, 7, 1, 3, 7] as const;

/** Check digit for an 8-digit DFI identification; null when the input is not 8 digits. */
export function routingCheckDigit(dfi8: string): number | null {
  if (dfi8.length !== 8) return null;
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const d = dfi8.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    sum += d * (WEIGHTS[i] as number);
  }
  return (10 - (sum % 10)) % 10;
}

/** True for a 9-digit routing number whose last digit is its check digit. */
export function isValidRoutingNumber(routing9: string): boolean {
  if (routing9.length !== 9) return false;
  const check = routingCheckDigit(routing9.slice(0, 8));
  return check !== null && check === routing9.charCodeAt(8) - 48;
}

/** File-header style: " 231380104" is the norm; some writers zero-fill instead ("0231380104"). */
export function looksLikeRoutingNumber(s: string): boolean {
  const digits = s.length === 10 && s[0] === '0' ? s.slice(1) : s;
  return isValidRoutingNumber(digits);
}
