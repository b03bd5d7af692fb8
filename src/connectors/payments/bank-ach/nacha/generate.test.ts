import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benchmarkAchInput } from './bench-input.ts';
import type { OriginationTransactionCode } from './codes.ts';
import { transactionCodeInfo } from './codes.ts';
import {
  AchGenerateError,
  generateAchFile,
  invoiceRemittance,
  REINITIATION_DESCRIPTION,
  splitAddenda,
  type AchBatchInput,
  type AchEntryInput,
  type AchFileInput,
  type GenerableSecCode,
} from './generate.ts';
import { parseAch } from './parse.ts';
import { routingCheckDigit } from './routing.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../../shared/fixtures/ach');
const fixtureText = (rel: string): string => {
  const t = fs.readFileSync(path.join(fixtures, rel), 'latin1');
  return t.endsWith('\n') ? t : t + '\n';
};

const mustParse = (text: string) => {
  const r = parseAch(text);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.code} line ${e.line} ${e.field}: ${e.message}`).join('\n'));
  return r.file;
};

describe('generator reproduces third-party fixtures byte for byte', () => {
  it('valid/ppd-debit.ach', () => {
    const g = generateAchFile({
      immediateDestination: '231380104',
      immediateOrigin: '0121042882',
      immediateDestinationName: 'Federal Reserve Bank',
      immediateOriginName: 'My Bank Name',
      fileCreationDate: '2019-06-24',
      fileCreationTime: '0000',
      fileIdModifier: 'A',
      batches: [
        {
          companyName: 'Name on Account',
          companyIdentification: '121042882',
          secCode: 'PPD',
          companyEntryDescription: 'REG.SALARY',
          effectiveEntryDate: '2019-06-25',
          odfi: '12104288',
          entries: [
            { transactionCode: 27, routingNumber: '231380104', accountNumber: '12345678', amountCents: 100000000n, receiverName: 'Receiver Account Name' },
          ],
        },
      ],
    });
    expect(g.text).toBe(fixtureText('valid/ppd-debit.ach'));
  });

  const webCredit: AchFileInput = {
    immediateDestination: '231380104',
    immediateOrigin: '121042882',
    immediateDestinationName: 'Federal Reserve Bank',
    immediateOriginName: 'My Bank Name',
    fileCreationDate: '2018-10-11',
    fileCreationTime: '0000',
    fileIdModifier: 'A',
    batches: [
      {
        companyName: 'Name on Account',
        companyIdentification: '121042882',
        secCode: 'WEB',
        companyEntryDescription: 'Subscribe',
        effectiveEntryDate: '2018-10-12',
        odfi: '12104288',
        entries: [
          {
            transactionCode: 22,
            routingNumber: '231380104',
            accountNumber: '12345678',
            amountCents: 10000n,
            identificationNumber: '#789654',
            receiverName: 'Wade Arnold',
            paymentType: 'S',
            addenda: ['PAY-GATE payment'],
          },
          {
            transactionCode: 22,
            routingNumber: '231380104',
            accountNumber: '81967038518',
            amountCents: 799n,
            identificationNumber: '#123456',
            receiverName: 'Wade Arnold',
            paymentType: 'R',
            addenda: ['Monthly Membership Subscription'],
          },
        ],
      },
    ],
  };

  it('valid/web-credit.ach (WEB payment types, addenda 05)', () => {
    expect(generateAchFile(webCredit).text).toBe(fixtureText('valid/web-credit.ach'));
  });

  it('valid/ctx-debit.ach (CTX layout, two addenda)', () => {
    const g = generateAchFile({
      ...webCredit,
      fileCreationDate: '2018-11-26',
      batches: [
        {
          companyName: 'Name on Account',
          companyIdentification: '121042882',
          secCode: 'CTX',
          companyEntryDescription: 'ACH CTX',
          effectiveEntryDate: '2018-11-27',
          odfi: '12104288',
          entries: [
            {
              transactionCode: 27,
              routingNumber: '231380104',
              accountNumber: '12345678',
              amountCents: 100000000n,
              identificationNumber: '45689033',
              receiverName: 'Receiver Company',
              discretionaryData: '01',
              addenda: ['Debit First Account', 'Debit Second Account'],
            },
          ],
        },
      ],
    });
    expect(g.text).toBe(fixtureText('valid/ctx-debit.ach'));
  });

  it('valid/same-day-ach-ppd-credit.ach (SD1300, effective = creation date)', () => {
    const g = generateAchFile({
      ...webCredit,
      fileCreationDate: '2019-01-08',
      batches: [
        {
          companyName: 'Name on Account',
          companyIdentification: '121042882',
          secCode: 'PPD',
          companyEntryDescription: 'REG.SALARY',
          effectiveEntryDate: '2019-01-08',
          sameDay: { settleAt: '1300' },
          odfi: '12104288',
          entries: [
            { transactionCode: 22, routingNumber: '231380104', accountNumber: '12345678', amountCents: 100000000n, receiverName: 'Receiver Account Name' },
          ],
        },
      ],
    });
    expect(g.text).toBe(fixtureText('valid/same-day-ach-ppd-credit.ach'));
  });
});

const baseBatch: AchBatchInput = {
  companyName: 'ACME MSP',
  companyIdentification: '1234567890',
  secCode: 'CCD',
  companyEntryDescription: 'INVOICES',
  effectiveEntryDate: '2026-03-23',
  odfi: '12104288',
  entries: [{ transactionCode: 27, routingNumber: '231380104', accountNumber: '5550001', amountCents: 125000n, receiverName: 'CLIENT CO' }],
};
const baseFile: AchFileInput = {
  immediateDestination: '231380104',
  immediateOrigin: '121042882',
  fileCreationDate: '2026-03-20',
  fileIdModifier: 'A',
  batches: [baseBatch],
};

describe('generator output', () => {
  it('assigns traces (ODFI + sequence) across batches, batch numbers, service classes', () => {
    const g = generateAchFile({
      ...baseFile,
      batches: [
        baseBatch,
        {
          ...baseBatch,
          entries: [
            { ...baseBatch.entries[0]!, transactionCode: 22 },
            { ...baseBatch.entries[0]!, transactionCode: 32 },
          ],
        },
        { ...baseBatch, entries: [{ ...baseBatch.entries[0]!, transactionCode: 22 }, baseBatch.entries[0]!] },
      ],
    });
    expect(g.batches.map((b) => [b.batchNumber, b.serviceClassCode, b.traceNumbers])).toEqual([
      [1, 225, ['121042880000001']],
      [2, 220, ['121042880000002', '121042880000003']],
      [3, 200, ['121042880000004', '121042880000005']],
    ]);
    const file = mustParse(g.text);
    expect(file.warnings).toEqual([]);
    expect(file.batches.map((b) => b.header.serviceClassCode)).toEqual([225, 220, 200]);
  });

  it('pads with 9s to a block of 10, or not; LF or CRLF', () => {
    const padded = generateAchFile(baseFile);
    expect(padded.text.split('\n').slice(0, -1)).toHaveLength(10);
    expect(padded.fillerLines).toBe(5);
    expect(padded.text.endsWith('9'.repeat(94) + '\n')).toBe(true);
    const bare = generateAchFile(baseFile, { padToBlock: false, lineEnding: 'CRLF' });
    expect(bare.text.split('\r\n').slice(0, -1)).toHaveLength(5);
    expect(bare.fillerLines).toBe(0);
    const parsed = mustParse(bare.text);
    expect(parsed.warnings.map((w) => w.code)).toEqual(['crlf']);
    expect(parsed.control.blockCount).toBe(1);
  });

  it('keeps only the low 10 digits of the entry hash', () => {
    const entries: AchEntryInput[] = Array.from({ length: 120 }, () => ({ ...baseBatch.entries[0]!, routingNumber: '999999992' }));
    const g = generateAchFile({ ...baseFile, batches: [{ ...baseBatch, entries }] });
    expect(g.entryHash).toBe(1999999880n); // 120 × 99999999 = 11999999880
    expect(mustParse(g.text).control.entryHash).toBe(1999999880n);
  });

  it('writes reinitiations with RETRY PYMT and identical company fields', () => {
    const g = generateAchFile({ ...baseFile, batches: [{ ...baseBatch, companyEntryDescription: REINITIATION_DESCRIPTION }] });
    const h = mustParse(g.text).batches[0]?.header;
    expect([h?.companyEntryDescription, h?.companyName, h?.companyIdentification]).toEqual(['RETRY PYMT', 'ACME MSP', '1234567890']);
  });

  it('CCD+ invoice remittance as X12 RMR segments in one addenda', () => {
    const text = invoiceRemittance([{ invoiceNumber: 'INV-1001', amountCents: 100000n }, { invoiceNumber: 'INV-1002' }]);
    expect(text).toBe('RMR*IV*INV-1001**1000.00\\RMR*IV*INV-1002**\\');
    const g = generateAchFile({ ...baseFile, batches: [{ ...baseBatch, entries: [{ ...baseBatch.entries[0]!, addenda: [text] }] }] });
    const a = mustParse(g.text).batches[0]?.entries[0]?.addenda[0];
    expect(a).toMatchObject({ type: '05', paymentRelatedInformation: text, addendaSequenceNumber: 1, entryDetailSequenceNumber: '0000001' });
    expect(() => invoiceRemittance(Array.from({ length: 5 }, (_, i) => ({ invoiceNumber: `INVOICE-${i}`, amountCents: 1n })))).toThrow(AchGenerateError);
    expect(() => invoiceRemittance([{ invoiceNumber: 'A*B' }])).toThrow(/delimiters/);
    expect(splitAddenda('x'.repeat(170)).map((s) => s.length)).toEqual([80, 80, 10]);
  });

  it.each<[string, (f: AchFileInput) => AchFileInput, string]>([
    ['bad destination', (f) => ({ ...f, immediateDestination: '231380105' }), 'immediateDestination'],
    ['bad modifier', (f) => ({ ...f, fileIdModifier: 'a' }), 'fileIdModifier'],
    ['bad date', (f) => ({ ...f, fileCreationDate: '2026-02-30' }), 'fileCreationDate'],
    ['no batches', (f) => ({ ...f, batches: [] }), 'batches'],
    ['company name all zeros', (f) => ({ ...f, batches: [{ ...baseBatch, companyName: '000' }] }), 'batches[0].companyName'],
    ['company name too long', (f) => ({ ...f, batches: [{ ...baseBatch, companyName: 'A VERY LONG COMPANY NAME' }] }), 'batches[0].companyName'],
    ['blank description', (f) => ({ ...f, batches: [{ ...baseBatch, companyEntryDescription: ' ' }] }), 'batches[0].companyEntryDescription'],
    ['effective before creation', (f) => ({ ...f, batches: [{ ...baseBatch, effectiveEntryDate: '2026-03-19' }] }), 'batches[0].effectiveEntryDate'],
    ['same day on another date', (f) => ({ ...f, batches: [{ ...baseBatch, sameDay: {} }] }), 'batches[0].effectiveEntryDate'],
    [
      'same day over $1M',
      (f) => ({
        ...f,
        batches: [{ ...baseBatch, effectiveEntryDate: '2026-03-20', sameDay: {}, entries: [{ ...baseBatch.entries[0]!, amountCents: 100000001n }] }],
      }),
      'batches[0].entries[0].amountCents',
    ],
    [
      'bad routing',
      (f) => ({ ...f, batches: [{ ...baseBatch, entries: [{ ...baseBatch.entries[0]!, routingNumber: '231380105' }] }] }),
      'batches[0].entries[0].routingNumber',
    ],
    [
      'amount too large',
      (f) => ({ ...f, batches: [{ ...baseBatch, entries: [{ ...baseBatch.entries[0]!, amountCents: 10_000_000_000n }] }] }),
      'batches[0].entries[0].amountCents',
    ],
    [
      'prenote with amount',
      (f) => ({ ...f, batches: [{ ...baseBatch, entries: [{ ...baseBatch.entries[0]!, transactionCode: 28 }] }] }),
      'batches[0].entries[0].amountCents',
    ],
    [
      'live zero amount',
      (f) => ({ ...f, batches: [{ ...baseBatch, entries: [{ ...baseBatch.entries[0]!, amountCents: 0n }] }] }),
      'batches[0].entries[0].amountCents',
    ],
    [
      'two addenda on CCD',
      (f) => ({ ...f, batches: [{ ...baseBatch, entries: [{ ...baseBatch.entries[0]!, addenda: ['A', 'B'] }] }] }),
      'batches[0].entries[0].addenda',
    ],
    ['CTX without addenda', (f) => ({ ...f, batches: [{ ...baseBatch, secCode: 'CTX' }] }), 'batches[0].entries[0].addenda'],
    ['WEB debit without payment type', (f) => ({ ...f, batches: [{ ...baseBatch, secCode: 'WEB' }] }), 'batches[0].entries[0].paymentType'],
    [
      'account too long',
      (f) => ({ ...f, batches: [{ ...baseBatch, entries: [{ ...baseBatch.entries[0]!, accountNumber: '123456789012345678' }] }] }),
      'batches[0].entries[0].dfiAccountNumber',
    ],
    [
      'non-ASCII name',
      (f) => ({ ...f, batches: [{ ...baseBatch, entries: [{ ...baseBatch.entries[0]!, receiverName: 'CAFÉ' }] }] }),
      'batches[0].entries[0].receiverName',
    ],
    ['service class 220 for debits', (f) => ({ ...f, batches: [{ ...baseBatch, serviceClassCode: 220 }] }), 'batches[0].serviceClassCode'],
  ])('rejects %s', (_name, mutate, expectedPath) => {
    let caught: unknown;
    try {
      generateAchFile(mutate(baseFile));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AchGenerateError);
    expect((caught as AchGenerateError).path).toBe(expectedPath);
  });

  it('cuts long receiver names instead of failing (free text)', () => {
    const g = generateAchFile({
      ...baseFile,
      batches: [{ ...baseBatch, entries: [{ ...baseBatch.entries[0]!, receiverName: 'A RECEIVER NAME LONGER THAN 22' }] }],
    });
    expect(mustParse(g.text).batches[0]?.entries[0]?.receiverName).toBe('A RECEIVER NAME LONGER');
  });

  it('benchmark input of N entries round-trips', () => {
    const g = generateAchFile(benchmarkAchInput(2500, { entriesPerBatch: 1000 }));
    const file = mustParse(g.text);
    expect(file.batches.map((b) => b.entries.length)).toEqual([1000, 1000, 500]);
    expect(file.control.entryAddendaCount).toBe(5000);
    expect(g.entryAddendaCount).toBe(5000);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: generate → parse gives back the same entries, counts, hashes and totals, all of which
// are also recomputed here from the input (not from the generator's own summary).

const routingArb = fc.stringMatching(/^\d{8}$/).map((d) => d + String(routingCheckDigit(d)));
const textArb = (max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9 .,#&'/-]{1,${max}}$`)).filter((s) => s.trim() !== '');
const tcArb = fc.constantFrom<OriginationTransactionCode>(22, 23, 27, 28, 32, 33, 37, 38);

const entryArb = (sec: GenerableSecCode): fc.Arbitrary<AchEntryInput> =>
  fc
    .record({
      transactionCode: tcArb,
      routingNumber: routingArb,
      accountNumber: fc.stringMatching(/^[0-9A-Z-]{1,17}$/).filter((a) => !/^0+$/.test(a)), // all zeros: content-rules.test.ts
      amount: fc.bigInt({ min: 1n, max: 9_999_999_999n }),
      // What fits the field (22, CTX 16) must say something (content rules); refusals: content-rules.test.ts.
      receiverName: textArb(30).filter((n) => !/^0*$/.test(n.slice(0, sec === 'CTX' ? 16 : 22).trim())),
      identificationNumber: fc.option(textArb(15), { nil: undefined }),
      paymentType: fc.constantFrom<'R' | 'S'>('R', 'S'),
      addenda: sec === 'CTX' ? fc.array(textArb(80), { minLength: 1, maxLength: 3 }) : fc.array(textArb(80), { maxLength: 1 }),
    })
    .map((r) => {
      const prenote = transactionCodeInfo(r.transactionCode)?.purpose === 'prenote';
      return {
        transactionCode: r.transactionCode,
        routingNumber: r.routingNumber,
        accountNumber: r.accountNumber,
        amountCents: prenote ? 0n : r.amount,
        receiverName: r.receiverName,
        ...(r.identificationNumber !== undefined ? { identificationNumber: r.identificationNumber } : {}),
        ...(sec === 'WEB' ? { paymentType: r.paymentType } : {}),
        addenda: r.addenda,
      };
    });

// Arbitraries are built once per SEC code: building stringMatching arbitraries inside `chain` on
// every sample costs ~100 ms each.
const batchArbFor = (sec: GenerableSecCode): fc.Arbitrary<AchBatchInput> =>
  fc.record({
    companyName: textArb(16).filter((s) => !/^0+$/.test(s.trim())), // all zeros is invalid: tested as an error case
    companyIdentification: fc.stringMatching(/^[0-9A-Z]{1,10}$/).filter((s) => !/^0+$/.test(s)),
    secCode: fc.constant(sec),
    companyEntryDescription: textArb(10).filter((s) => !/^0+$/.test(s.trim())),
    effectiveEntryDate: fc.constantFrom('2026-03-20', '2026-03-23', '2027-01-04'),
    odfi: fc.stringMatching(/^\d{8}$/),
    entries: fc.array(entryArb(sec), { minLength: 1, maxLength: 15 }),
  });
const batchArb = fc.oneof(batchArbFor('CCD'), batchArbFor('PPD'), batchArbFor('WEB'), batchArbFor('CTX'));

describe('generate → parse round trip (property)', () => {
  it('same entries, counts, hashes and totals', () => {
    fc.assert(
      fc.property(fc.array(batchArb, { minLength: 1, maxLength: 4 }), fc.constantFrom<'LF' | 'CRLF'>('LF', 'CRLF'), (batches, lineEnding) => {
        const g = generateAchFile({ ...baseFile, batches }, { lineEnding });
        const file = mustParse(g.text);
        // Compare plain values once per file (one deep equality is far cheaper than many expects).
        const actual = file.batches.map((p) => ({
          entries: p.entries.map((e) => [
            e.transactionCode,
            e.routingNumber,
            e.accountNumber,
            e.amountCents,
            e.receiverName,
            e.addenda.map((a) => (a.type === '05' ? a.paymentRelatedInformation : '')),
          ]),
          control: [p.control.entryHash, p.control.entryAddendaCount, p.control.totalDebitCents, p.control.totalCreditCents],
        }));
        let fileHash = 0n;
        let fileCount = 0;
        let fileDebit = 0n;
        let fileCredit = 0n;
        const expected = batches.map((b) => {
          let hash = 0n;
          let count = 0;
          let debit = 0n;
          let credit = 0n;
          const entries = b.entries.map((e) => {
            hash += BigInt(e.routingNumber.slice(0, 8));
            count += 1 + (e.addenda?.length ?? 0);
            // Second digit of the transaction code: 1-4 credit, 5-9 debit.
            if (Number(String(e.transactionCode)[1]) >= 5) debit += e.amountCents;
            else credit += e.amountCents;
            const name = e.receiverName.slice(0, b.secCode === 'CTX' ? 16 : 22).trim();
            return [e.transactionCode, e.routingNumber, e.accountNumber, e.amountCents, name, (e.addenda ?? []).map((t) => t.trimEnd())];
          });
          fileHash += hash;
          fileCount += count;
          fileDebit += debit;
          fileCredit += credit;
          return { entries, control: [hash % 10_000_000_000n, count, debit, credit] };
        });
        expect(actual).toEqual(expected);
        expect([file.control.entryHash, file.control.entryAddendaCount, file.control.totalDebitCents, file.control.totalCreditCents]).toEqual([
          fileHash % 10_000_000_000n,
          fileCount,
          fileDebit,
          fileCredit,
        ]);
        expect(file.control.blockCount).toBe(Math.ceil((2 + batches.length * 2 + fileCount) / 10));
        expect(file.warnings.map((w) => w.code)).toEqual(lineEnding === 'CRLF' ? ['crlf'] : []);
      }),
      { numRuns: 200 },
    );
  });
});
