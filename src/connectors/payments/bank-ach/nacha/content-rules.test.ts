// The generator never writes a file the content rules reject: for any input — including blank, all-zero
// and too-long-then-cut names, descriptions, company IDs and account numbers — it either refuses with an
// AchGenerateError naming the input field, or writes a file the parser accepts without a content issue.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentProblem, receiverNameRule } from './content-rules.ts';
import { AchGenerateError, generateAchFile, type AchBatchInput, type AchFileInput, type GenerableSecCode } from './generate.ts';
import { parseAch } from './parse.ts';

const file = (batch: AchBatchInput): AchFileInput => ({
  immediateDestination: '231380104',
  immediateOrigin: '121042882',
  fileCreationDate: '2026-03-20',
  fileIdModifier: 'A',
  batches: [batch],
});

const batchOf = (sec: GenerableSecCode, over: Partial<AchBatchInput> = {}, entry: Record<string, unknown> = {}): AchBatchInput => ({
  companyName: 'ACME MSP',
  companyIdentification: '1234567890',
  secCode: sec,
  companyEntryDescription: 'INVOICES',
  effectiveEntryDate: '2026-03-23',
  odfi: '12104288',
  entries: [
    {
      transactionCode: 27,
      routingNumber: '231380104',
      accountNumber: '5550001',
      amountCents: 125000n,
      receiverName: 'CLIENT CO',
      ...(sec === 'WEB' ? { paymentType: 'S' as const } : {}),
      ...(sec === 'CTX' ? { addenda: ['RMR*IV*1001**10.00\\'] } : {}),
      ...entry,
    },
  ],
  ...over,
});

function refusal(input: AchFileInput): string | null {
  try {
    generateAchFile(input);
    return null;
  } catch (e) {
    if (!(e instanceof AchGenerateError)) throw e;
    return e.path;
  }
}

describe('content rules in the generator', () => {
  it.each<[string, AchBatchInput, string]>([
    ['all-zero company identification', batchOf('CCD', { companyIdentification: '0000' }), 'batches[0].companyIdentification'],
    ['all-zero entry description', batchOf('CCD', { companyEntryDescription: '000' }), 'batches[0].companyEntryDescription'],
    ['all-zero company name', batchOf('PPD', { companyName: '0' }), 'batches[0].companyName'],
    ['blank PPD individual name', batchOf('PPD', {}, { receiverName: '   ' }), 'batches[0].entries[0].receiverName'],
    ['all-zero WEB individual name', batchOf('WEB', {}, { receiverName: '000' }), 'batches[0].entries[0].receiverName'],
    ['blank CCD receiving company', batchOf('CCD', {}, { receiverName: '' }), 'batches[0].entries[0].receiverName'],
    // 16 blanks fill the CTX name field; what follows is cut off, so the file would carry a blank name.
    ['CTX name blank once cut to 16', batchOf('CTX', {}, { receiverName: ' '.repeat(16) + 'LATE NAME' }), 'batches[0].entries[0].receiverName'],
    ['all-zero account number', batchOf('CCD', {}, { accountNumber: '00000' }), 'batches[0].entries[0].accountNumber'],
  ])('refuses %s, naming the field', (_name, batch, path) => {
    expect(refusal(file(batch))).toBe(path);
  });

  it('writes only files the parser accepts (property over good and bad field values)', () => {
    const text = (max: number) =>
      fc.oneof(
        fc.constantFrom('', ' ', '0', '00000', ' 0 ', '0000000000'),
        fc.stringMatching(new RegExp(`^[A-Za-z0-9 ]{1,${max}}$`)),
        fc.stringMatching(/^ {10,20}[A-Z]{1,8}$/), // blank within the field, text beyond it
      );
    fc.assert(
      fc.property(
        fc.constantFrom<GenerableSecCode>('CCD', 'PPD', 'WEB', 'CTX'),
        text(10),
        text(10),
        text(16),
        text(30),
        fc.oneof(fc.constantFrom('0', '000000'), fc.stringMatching(/^[0-9A-Z-]{1,17}$/)),
        (sec, companyIdentification, companyEntryDescription, companyName, receiverName, accountNumber) => {
          const input = file(batchOf(sec, { companyIdentification, companyEntryDescription, companyName }, { receiverName, accountNumber }));
          let text: string;
          try {
            text = generateAchFile(input).text;
          } catch (e) {
            if (e instanceof AchGenerateError) return; // refused, with the field named
            throw e;
          }
          const r = parseAch(text);
          if (!r.ok) expect.unreachable(`generated a file the parser rejects: ${JSON.stringify(r.errors)}`);
          const e = r.file.batches[0]!.entries[0]!;
          expect(contentProblem(e.receiverName)).toBeNull();
          expect(receiverNameRule(sec)).not.toBeNull();
        },
      ),
      { numRuns: 400 },
    );
  });
});
