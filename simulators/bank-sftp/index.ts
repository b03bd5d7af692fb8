// A local SFTP "bank" for tests and the demo: the MSP's bank (ODFI) as an originator meets it — an SFTP
// server with an inbound directory for NACHA files and an outbound directory where the bank leaves
// acknowledgements, returns and notifications of change. In-process (`startBankSftpSimulator`, the `sim`
// control object drives the bank's side) or on its own port (`settle simulator bank-sftp --port N`).
import { hostKeyFingerprint } from '../../src/connectors/payments/bank-ach/sftp.ts';
import ssh2 from 'ssh2';
import { BankControl } from './bank.ts';
import { MemFs } from './mem-fs.ts';
import { createSftpServer, type SftpFaults } from './sftp-server.ts';

export { BankControl, type ReceivedEntry, type ProcessedFile } from './bank.ts';

export interface BankSftpSimulatorOptions {
  readonly port?: number;
  readonly host?: string;
  readonly username?: string;
  readonly password?: string;
  /** OpenSSH public key line also accepted for login. */
  readonly authorizedKey?: string;
  readonly inboundDir?: string;
  readonly outboundDir?: string;
  readonly ackSuffix?: string;
  /** The bank's routing number (the ODFI). */
  readonly routingNumber?: string;
}

export interface RunningBankSftpSimulator {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** Pin this in the connection settings (sftp.hostKeySha256). */
  readonly hostKeySha256: string;
  readonly inboundDir: string;
  readonly outboundDir: string;
  readonly routingNumber: string;
  readonly sim: BankControl;
  readonly faults: SftpFaults;
  close(): Promise<void>;
}

/** A real routing number with a valid check digit (the Federal Reserve Bank's, used in NACHA examples). */
export const SIM_BANK_ROUTING = '231380104';

export async function startBankSftpSimulator(opts: BankSftpSimulatorOptions = {}): Promise<RunningBankSftpSimulator> {
  const keys = ssh2.utils.generateKeyPairSync('ed25519');
  const parsed = ssh2.utils.parseKey(keys.public);
  if (parsed instanceof Error) throw parsed;
  const inboundDir = opts.inboundDir ?? '/inbound';
  const outboundDir = opts.outboundDir ?? '/outbound';
  const fs = new MemFs([inboundDir, outboundDir], new Set([inboundDir]));
  const username = opts.username ?? 'msp';
  const password = opts.password ?? 'bank-sim-password';
  const faults: SftpFaults = { refuseLogins: 0, failRenames: 0 };
  const server = createSftpServer(
    { hostKey: keys.private, username, password, ...(opts.authorizedKey ? { authorizedKey: opts.authorizedKey } : {}), fs },
    faults,
  );
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const routingNumber = opts.routingNumber ?? SIM_BANK_ROUTING;
  return {
    host,
    port,
    username,
    password,
    hostKeySha256: hostKeyFingerprint(parsed.getPublicSSH()),
    inboundDir,
    outboundDir,
    routingNumber,
    sim: new BankControl(fs, inboundDir, outboundDir, opts.ackSuffix ?? '.ack', routingNumber),
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // ssh2's server keeps accepted connections open; closing the listener is enough for tests.
        setTimeout(resolve, 200).unref();
      }),
  };
}

/** `settle simulator bank-sftp --port N`: prints how to connect; the bank processes its inbox every 10 s. */
export async function runStandalone(port: number): Promise<RunningBankSftpSimulator> {
  const s = await startBankSftpSimulator({ port });
  // Like a bank: the inbox is processed every 10 s, and each past day's statement (BAI2) is delivered once.
  const stated = new Set<string>();
  setInterval(() => {
    s.sim.processInbound();
    const today = new Date().toISOString().slice(0, 10);
    for (const day of new Set(s.sim.ledger.map((i) => i.on))) {
      if (day < today && !stated.has(day)) {
        stated.add(day);
        s.sim.writeStatement(day);
      }
    }
  }, 10_000).unref();
  console.log(
    [
      `Bank SFTP simulator listening on sftp://${s.username}@${s.host}:${s.port}`,
      `  password:          ${s.password}`,
      `  host key:          ${s.hostKeySha256}`,
      `  upload NACHA to:   ${s.inboundDir}   (acknowledgements, returns, NOCs and BAI2 statements appear in ${s.outboundDir})`,
      `  bank routing:      ${s.routingNumber}`,
    ].join('\n'),
  );
  return s;
}
