// An independent, deliberately plain recomputation of a NACHA file's controls straight from the
// text (no import from the parser), used to check that the parser never accepts a file whose
// controls do not add up. Positions: Nacha Appendix Three, written out here a second time on purpose.

/** Same physical policy as the parser's README decision, written independently. */
export function normalizeRecords(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const out: string[] = [];
  for (const l of lines) {
    if (l.length <= 94) out.push(l.padEnd(94, ' '));
    else if (l.slice(94).trim() === '') out.push(l.slice(0, 94));
    else for (let i = 0; i < l.length; i += 94) out.push(l.slice(i, i + 94));
  }
  return out;
}

const digits = (s: string): boolean => /^\d+$/.test(s);
const checkDigit = (d8: string): number => {
  const w = [3, 7, 1, 3, 7, 1, 3, 7];
  let s = 0;
  for (let i = 0; i < 8; i++) s += Number(d8[i]) * w[i]!;
  return (10 - (s % 10)) % 10;
};

/** Every way the records fail to add up; empty when all controls agree with the entries. */
export function controlProblems(records: readonly string[]): string[] {
  const problems: string[] = [];
  const firstNine = records.findIndex((r) => r[0] === '9');
  if (records[0]?.[0] !== '1') problems.push('no file header first');
  if (firstNine < 0) return [...problems, 'no file control'];
  const body = records.slice(0, firstNine + 1);
  if (records.slice(firstNine + 1).some((r) => !/^9+ *$/.test(r))) problems.push('records after file control');
  let inBatch = false;
  let count = 0;
  let hash = 0n;
  let debit = 0n;
  let credit = 0n;
  let fCount = 0;
  let fHash = 0n;
  let fDebit = 0n;
  let fCredit = 0n;
  let batches = 0;
  for (const [i, r] of body.entries()) {
    switch (r[0]) {
      case '5':
        if (inBatch) problems.push(`line ${i + 1}: batch header inside batch`);
        inBatch = true;
        count = 0;
        hash = 0n;
        debit = 0n;
        credit = 0n;
        break;
      case '6': {
        if (!inBatch) problems.push(`line ${i + 1}: entry outside batch`);
        count++;
        const rdfi = r.slice(3, 11);
        const amount = r.slice(29, 39);
        if (!digits(rdfi) || !digits(amount) || !digits(r.slice(1, 3))) {
          problems.push(`line ${i + 1}: non-numeric entry field`);
          break;
        }
        if (checkDigit(rdfi) !== Number(r[11])) problems.push(`line ${i + 1}: check digit`);
        hash += BigInt(rdfi);
        if (Number(r[2]) >= 5) debit += BigInt(amount);
        else credit += BigInt(amount);
        break;
      }
      case '7':
        count++;
        break;
      case '8': {
        if (!inBatch) problems.push(`line ${i + 1}: batch control outside batch`);
        inBatch = false;
        batches++;
        if (r.slice(4, 10) !== String(count).padStart(6, '0')) problems.push(`line ${i + 1}: batch count`);
        if (r.slice(10, 20) !== String(hash % 10_000_000_000n).padStart(10, '0')) problems.push(`line ${i + 1}: batch hash`);
        if (r.slice(20, 32) !== String(debit).padStart(12, '0')) problems.push(`line ${i + 1}: batch debit`);
        if (r.slice(32, 44) !== String(credit).padStart(12, '0')) problems.push(`line ${i + 1}: batch credit`);
        fCount += count;
        fHash += hash;
        fDebit += debit;
        fCredit += credit;
        break;
      }
      case '1':
        if (i !== 0) problems.push(`line ${i + 1}: second file header`);
        break;
      case '9': {
        if (inBatch) problems.push('file control inside batch');
        if (r.slice(1, 7) !== String(batches).padStart(6, '0')) problems.push('file batch count');
        if (r.slice(7, 13) !== String(Math.ceil(body.length / 10)).padStart(6, '0')) problems.push('file block count');
        if (r.slice(13, 21) !== String(fCount).padStart(8, '0')) problems.push('file entry/addenda count');
        if (r.slice(21, 31) !== String(fHash % 10_000_000_000n).padStart(10, '0')) problems.push('file hash');
        if (r.slice(31, 43) !== String(fDebit).padStart(12, '0')) problems.push('file debit');
        if (r.slice(43, 55) !== String(fCredit).padStart(12, '0')) problems.push('file credit');
        break;
      }
      default:
        problems.push(`line ${i + 1}: record type ${r[0]}`);
    }
  }
  return problems;
}
