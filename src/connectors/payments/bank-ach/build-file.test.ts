import { describe, expect, it } from 'vitest';
import { parseAch } from './nacha/index.ts';
import { buildAchFile, remittanceFor, type EntryToSend } from './build-file.ts';
import { DEFAULT_CUTOFFS } from './catalogue.ts';
import { currentWindow } from './windows.ts';
import { bankAchConfigSchema, originatorOf } from './settings.ts';

const config = bankAchConfigSchema.parse({
  odfiRoutingNumber: '121042882',
  immediateOrigin: '1234567890',
  companyName: 'ACME IT',
  companyId: '1234567890',
  sftp: { host: 'bank.example', username: 'msp', hostKeySha256: 'SHA256:' + 'a'.repeat(43) },
});
const window = currentWindow(new Date('2026-03-23T13:15:00Z'), DEFAULT_CUTOFFS, 'America/New_York');

const entry = (over: Partial<EntryToSend>): EntryToSend => ({
  entryId: 'e1',
  kind: 'debit',
  secCode: 'CCD',
  amountCents: 125_000n,
  companyName: 'ACME IT',
  companyId: '1234567890',
  entryDescription: 'INVOICES',
  sameDay: false,
  routingNumber: '021000021',
  accountNumber: '000123456789',
  accountType: 'checking',
  receiverName: 'Acme Dental LLC',
  receiverId: 'ACMEDENTAL',
  remittance: 'RMR*IV*1001**1250.00\\',
  webPaymentType: 'S',
  ...over,
});

describe('building a cut-off file', () => {
  it('batches by SEC code, company, description and effective date; reinitiations and Same Day entries get their own batch', () => {
    const built = buildAchFile({
      originator: originatorOf(config),
      fileDate: '2026-03-23',
      fileTime: '0915',
      fileIdModifier: 'A',
      window,
      sameDayEnabled: true,
      firstTraceSequence: 41,
      entries: [
        entry({ entryId: 'a' }),
        entry({ entryId: 'b', amountCents: 5_000n }),
        entry({ entryId: 'c', entryDescription: 'RETRY PYMT' }),
        entry({ entryId: 'd', sameDay: true }),
        entry({ entryId: 'e', secCode: 'WEB', kind: 'prenote', amountCents: 0n, accountType: 'savings', remittance: null }),
        entry({ entryId: 'f', sameDay: true, amountCents: 100_000_001n }), // over the Same Day limit: next day
      ],
    });
    expect(built.batchCount).toBe(4);
    expect(built.firstTraceSequence).toBe(41);
    expect(built.lastTraceSequence).toBe(46);
    expect(built.placed.get('d')).toMatchObject({ effectiveDate: '2026-03-23', sameDay: true });
    expect(built.placed.get('f')).toMatchObject({ effectiveDate: '2026-03-24', sameDay: false });
    expect(built.placed.get('a')!.traceNumber).toBe('121042880000041');
    const parsed = parseAch(built.text);
    if (!parsed.ok) throw new Error(parsed.errors[0]!.message);
    const byDesc = parsed.file.batches.map((b) => [
      b.header.secCode,
      b.header.companyEntryDescription,
      b.header.effectiveEntryDate,
      b.header.companyDescriptiveDate.trim(),
      b.entries.length,
    ]);
    expect(byDesc).toEqual([
      ['CCD', 'INVOICES', '260324', '', 3],
      ['CCD', 'RETRY PYMT', '260324', '', 1],
      ['CCD', 'INVOICES', '260323', 'SD1300', 1],
      ['WEB', 'INVOICES', '260324', '', 1],
    ]);
    const first = parsed.file.batches[0]!.entries[0]!;
    expect(first.addenda[0]).toMatchObject({ type: '05', paymentRelatedInformation: expect.stringContaining('RMR*IV*1001') });
    expect(first.receiverName).toBe('ACME DENTAL LLC');
    const prenote = parsed.file.batches[3]!.entries[0]!;
    expect(prenote).toMatchObject({ transactionCode: 38, purpose: 'prenote', amountCents: 0n, discretionaryData: 'S ' });
    expect(parsed.file.control.totalDebitCents).toBe(125_000n + 5_000n + 125_000n + 125_000n + 100_000_001n);
  });

  it('fits CCD+ remittance into one 80-character addenda', () => {
    expect(remittanceFor([{ invoiceNumber: '1001', amountCents: 125_000n }])).toBe('RMR*IV*1001**1250.00\\');
    const many = Array.from({ length: 6 }, (_, i) => ({ invoiceNumber: `INV-2026-00${i}`, amountCents: 99_999n }));
    const text = remittanceFor(many)!;
    expect(text.length).toBeLessThanOrEqual(80);
    expect(text).toContain('RMR*IV*INV-2026-000**\\');
    expect(remittanceFor([{ invoiceNumber: 'A*B', amountCents: 1n }])).toBeNull();
  });
});
