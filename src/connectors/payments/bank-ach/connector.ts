// The bank ACH connector: the MSP's own bank as a payments rail. It does not fit the card processor's
// interface (no hosted fields, customers, webhooks or payouts: debits leave as NACHA files and the bank's
// answers come back as files), so it has its own small role interface, `BankAchConnector`, and its own
// connection role 'bank_ach' beside 'payments' (docs/architecture.md "Bank ACH").
//
// The connector moves files and seals what must be unreadable at rest; deciding what goes into a file and
// what a return means is the engine's job (src/engine/*ach*).
import crypto from 'node:crypto';
import type { BuildHooks } from '../../registry.ts';
import { originatorOf, type BankAchConfig, type BankAchSecrets, type Originator } from './settings.ts';
import { SftpError, withSftp, type SftpCredentials, type SftpSession } from './sftp.ts';

export interface BankFile {
  readonly name: string;
  readonly size: number;
  /**
   * 'ack': the bank's acknowledgement of a file we sent; 'statement': its previous-day BAI2 statement
   * (*.bai, *.bai2); 'returns': a NACHA file of returns and NOCs.
   */
  readonly kind: 'ack' | 'returns' | 'statement';
}

export interface Delivery {
  /** 'already_at_bank': an earlier attempt had delivered it (found by name), so nothing was sent again. */
  readonly delivery: 'uploaded' | 'already_at_bank';
  readonly remotePath: string;
}

export interface AckInfo {
  readonly fileName: string;
  readonly status: 'accepted' | 'rejected';
  readonly reason: string | null;
}

export interface BankAchConnector {
  readonly vendor: 'bank-ach';
  readonly config: BankAchConfig;
  readonly originator: Originator;
  /** Account numbers and files carrying them are stored sealed (Nacha "unreadable when stored", §2.7, §6). */
  sealAccount(accountNumber: string): string;
  openAccount(sealed: string): string;
  sealFile(text: string): string;
  openFile(sealed: string): string;
  /**
   * Put a file in the bank's inbound directory unless the bank already has it. The file name is the
   * idempotency key: it is derived from the file's identity (date + file ID modifier), so after a crash
   * between "uploaded" and "recorded as sent" the retry finds the file (or the bank's acknowledgement of
   * it) and does not send the entries twice. A different file under the same name is refused.
   */
  deliverFile(input: { readonly fileName: string; readonly content: Buffer }): Promise<Delivery>;
  /** Files the bank left for us in its outbound directory. */
  listBankFiles(): Promise<readonly BankFile[]>;
  fetchBankFile(name: string): Promise<Buffer>;
  /** Reads an acknowledgement file (see `parseAck`). */
  readAck(name: string, content: Buffer): AckInfo | null;
  /** `settle doctor`: sign in and list both directories; throws SftpError saying what is wrong. */
  checkDirectories(): Promise<{ readonly uploadDir: string; readonly downloadDir: string; readonly waiting: number }>;
}

export class BankDeliveryConflict extends Error {
  override readonly name = 'BankDeliveryConflict';
}

const sha256 = (b: Buffer | string): string => crypto.createHash('sha256').update(b).digest('hex');

/**
 * The acknowledgement convention Settle reads (the simulator writes it; banks differ, so this is the one
 * place to adapt): a text file named "<file name><ackSuffix>" with "KEY: value" lines, among them
 * "STATUS: ACCEPTED" or "STATUS: REJECTED" and optionally "REASON: …".
 */
export function parseAck(fileName: string, text: string): AckInfo | null {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Z][A-Z ]*[A-Z]):\s*(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!, m[2]!.trim());
  }
  const status = fields.get('STATUS');
  if (status !== 'ACCEPTED' && status !== 'REJECTED') return null;
  return { fileName, status: status === 'ACCEPTED' ? 'accepted' : 'rejected', reason: fields.get('REASON') ?? null };
}

export function createBankAchConnector(config: BankAchConfig, secrets: BankAchSecrets, hooks: Pick<BuildHooks, 'seal' | 'open'>): BankAchConnector {
  const creds: SftpCredentials = {
    host: config.sftp.host,
    port: config.sftp.port,
    username: config.sftp.username,
    hostKeySha256: config.sftp.hostKeySha256,
    password: secrets.password,
    privateKey: secrets.privateKey,
    passphrase: secrets.passphrase,
    timeoutMs: config.sftp.timeoutMs,
  };
  const up = (name: string): string => `${config.sftp.uploadDir.replace(/\/$/, '')}/${name}`;
  const down = (name: string): string => `${config.sftp.downloadDir.replace(/\/$/, '')}/${name}`;
  const isAck = (name: string): boolean => name.endsWith(config.ackSuffix);
  const isStatement = (name: string): boolean => /\.bai2?$/i.test(name);
  const kindOf = (name: string): BankFile['kind'] => (isAck(name) ? 'ack' : isStatement(name) ? 'statement' : 'returns');

  async function alreadyAtBank(s: SftpSession, fileName: string, content: Buffer): Promise<boolean> {
    const inbound = await s.list(config.sftp.uploadDir);
    const there = inbound.find((f) => f.name === fileName);
    if (there) {
      const remote = await s.read(up(fileName));
      if (sha256(remote) !== sha256(content)) {
        throw new BankDeliveryConflict(`the bank already holds a different ${fileName}; a file name is never reused, so this needs a person to look`);
      }
      return true;
    }
    // The bank may already have picked the file up: its acknowledgement proves it arrived.
    const outbound = await s.list(config.sftp.downloadDir);
    return outbound.some((f) => f.name === fileName + config.ackSuffix);
  }

  return {
    vendor: 'bank-ach',
    config,
    originator: originatorOf(config),
    sealAccount: (n) => hooks.seal(n, 'ach-account'),
    openAccount: (s) => hooks.open<string>(s, 'ach-account'),
    sealFile: (t) => hooks.seal(t, 'ach-file'),
    openFile: (s) => hooks.open<string>(s, 'ach-file'),
    deliverFile: ({ fileName, content }) =>
      withSftp(creds, async (s) => {
        if (await alreadyAtBank(s, fileName, content)) return { delivery: 'already_at_bank', remotePath: up(fileName) };
        // Write under a temporary name and rename: the bank never sees half a file under the real name.
        const part = up(`${fileName}.part`);
        try {
          await s.remove(part);
        } catch (e) {
          if (!(e instanceof SftpError && e.kind === 'not_found')) throw e;
        }
        await s.write(part, content);
        await s.rename(part, up(fileName));
        return { delivery: 'uploaded', remotePath: up(fileName) };
      }),
    listBankFiles: () =>
      withSftp(creds, async (s) =>
        (await s.list(config.sftp.downloadDir))
          .filter((f) => !f.name.startsWith('.') && !f.name.endsWith('.part'))
          .map((f) => ({ name: f.name, size: f.size, kind: kindOf(f.name) }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      ),
    fetchBankFile: (name) => withSftp(creds, (s) => s.read(down(name))),
    readAck: (name, content) => (isAck(name) ? parseAck(name.slice(0, -config.ackSuffix.length), content.toString('latin1')) : null),
    checkDirectories: () =>
      withSftp(creds, async (s) => {
        await s.list(config.sftp.uploadDir);
        const waiting = (await s.list(config.sftp.downloadDir)).filter((f) => !f.name.startsWith('.')).length;
        return { uploadDir: config.sftp.uploadDir, downloadDir: config.sftp.downloadDir, waiting };
      }),
  };
}
