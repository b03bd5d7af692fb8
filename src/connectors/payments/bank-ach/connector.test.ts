// The bank ACH connector against the SFTP bank simulator over a real SSH connection: delivery with
// check-before-write, the pinned host key, typed errors, and reading what the bank leaves in its outbox.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../../db/crypto.ts';
import { startBankSftpSimulator, type RunningBankSftpSimulator } from '../../../../simulators/bank-sftp/index.ts';
import { BankDeliveryConflict, createBankAchConnector, parseAck, type BankAchConnector } from './connector.ts';
import { bankAchConfigSchema, bankAchSecretsSchema } from './settings.ts';
import { SftpError } from './sftp.ts';
import { benchmarkAchInput, generateAchFile } from './nacha/index.ts';

let bank: RunningBankSftpSimulator;
const box = SecretBox.fromHex(crypto.randomBytes(32).toString('hex'));
const hooks = { seal: (v: unknown, p: string) => box.seal(v, `data:t1:${p}`), open: <T>(s: string, p: string) => box.open<T>(s, `data:t1:${p}`) };

function connector(over: { password?: string; hostKeySha256?: string } = {}): BankAchConnector {
  const config = bankAchConfigSchema.parse({
    odfiRoutingNumber: '121042882',
    immediateOrigin: '1234567890',
    companyName: 'ACME IT',
    companyId: '1234567890',
    sftp: { host: bank.host, port: bank.port, username: bank.username, hostKeySha256: over.hostKeySha256 ?? bank.hostKeySha256, timeoutMs: 5000 },
  });
  return createBankAchConnector(config, bankAchSecretsSchema.parse({ password: over.password ?? bank.password }), hooks);
}

const fileText = generateAchFile(benchmarkAchInput(3)).text;

beforeAll(async () => {
  bank = await startBankSftpSimulator();
});
afterAll(async () => bank?.close());

describe('bank ACH connector over SFTP', () => {
  it('delivers a file once: a second delivery finds it by name, before and after the bank picked it up', async () => {
    const c = connector();
    const first = await c.deliverFile({ fileName: 'SETTLE_20260320_A.ach', content: Buffer.from(fileText) });
    expect(first).toEqual({ delivery: 'uploaded', remotePath: '/inbound/SETTLE_20260320_A.ach' });
    expect(bank.sim.waiting()).toEqual(['SETTLE_20260320_A.ach']);
    expect((await c.deliverFile({ fileName: 'SETTLE_20260320_A.ach', content: Buffer.from(fileText) })).delivery).toBe('already_at_bank');

    const [processed] = bank.sim.processInbound();
    expect(processed!.status).toBe('ACCEPTED');
    expect(bank.sim.waiting()).toEqual([]);
    // Gone from the inbox, but the acknowledgement proves the bank has it: still not sent again.
    expect((await c.deliverFile({ fileName: 'SETTLE_20260320_A.ach', content: Buffer.from(fileText) })).delivery).toBe('already_at_bank');
    expect(bank.sim.deliveries.filter((d) => d.path.endsWith('SETTLE_20260320_A.ach'))).toHaveLength(1);

    const files = await c.listBankFiles();
    expect(files).toEqual([{ name: 'SETTLE_20260320_A.ach.ack', size: expect.any(Number), kind: 'ack' }]);
    const ack = c.readAck(files[0]!.name, await c.fetchBankFile(files[0]!.name));
    expect(ack).toEqual({ fileName: 'SETTLE_20260320_A.ach', status: 'accepted', reason: null });
  });

  it('refuses to put a different file under a name the bank already holds', async () => {
    const c = connector();
    await c.deliverFile({ fileName: 'SETTLE_20260320_B.ach', content: Buffer.from(fileText) });
    await expect(c.deliverFile({ fileName: 'SETTLE_20260320_B.ach', content: Buffer.from(fileText.replace('BENCH MSP', 'OTHER MSP')) })).rejects.toBeInstanceOf(
      BankDeliveryConflict,
    );
  });

  it('the bank refuses a duplicate file (same origin, date and modifier) even under another name', async () => {
    const c = connector();
    await c.deliverFile({ fileName: 'COPY_OF_A.ach', content: Buffer.from(fileText) });
    const results = bank.sim.processInbound();
    const copy = results.find((r) => r.fileName === 'COPY_OF_A.ach')!;
    expect(copy.status).toBe('REJECTED');
    expect(copy.reason).toMatch(/duplicate/);
  });

  it('a host key that does not match the pinned fingerprint is refused before any file moves', async () => {
    const wrong = 'SHA256:' + 'A'.repeat(43);
    const err = await connector({ hostKeySha256: wrong })
      .listBankFiles()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SftpError);
    expect((err as SftpError).kind).toBe('host_key');
    expect((err as SftpError).transient).toBe(false);
  });

  it('a wrong password is an auth error', async () => {
    const err = await connector({ password: 'nope' })
      .listBankFiles()
      .catch((e: unknown) => e);
    expect((err as SftpError).kind).toBe('auth');
  });

  it('an interrupted upload (rename failed) is completed by the next delivery, once', async () => {
    const c = connector();
    bank.faults.failRenames = 1;
    await expect(c.deliverFile({ fileName: 'SETTLE_20260321_A.ach', content: Buffer.from(fileText) })).rejects.toBeInstanceOf(SftpError);
    expect(bank.sim.waiting()).toEqual([]);
    expect((await c.deliverFile({ fileName: 'SETTLE_20260321_A.ach', content: Buffer.from(fileText) })).delivery).toBe('uploaded');
    expect(bank.sim.deliveries.filter((d) => d.path.endsWith('SETTLE_20260321_A.ach'))).toHaveLength(1);
  });

  it('seals account numbers so they are unreadable at rest and bound to the tenant', () => {
    const c = connector();
    const sealed = c.sealAccount('000123456789');
    expect(sealed).not.toContain('123456789');
    expect(c.openAccount(sealed)).toBe('000123456789');
    expect(() => box.open(sealed, 'data:t2:ach-account')).toThrow();
  });

  it('reads acknowledgements strictly', () => {
    expect(parseAck('F', 'STATUS: REJECTED\nREASON: duplicate file')).toEqual({ fileName: 'F', status: 'rejected', reason: 'duplicate file' });
    expect(parseAck('F', 'status accepted')).toBeNull();
  });
});
