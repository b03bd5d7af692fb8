// SFTP to the MSP's bank (ssh2's client): the only network code of the bank ACH connector. One SSH
// connection per unit of work; the bank's host key is pinned by its SHA-256 fingerprint (never trusted on
// first use: a file of account numbers must not go to whoever answers on the port). Errors are typed from
// ssh2's error level and the SFTP status code, never from message text.
import crypto from 'node:crypto';
import ssh2 from 'ssh2';

const { Client } = ssh2;
// SFTP status codes (draft-ietf-secsh-filexfer-02 §7).
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

export type SftpErrorKind = 'auth' | 'host_key' | 'network' | 'timeout' | 'not_found' | 'permission' | 'remote';

export class SftpError extends Error {
  override readonly name = 'SftpError';
  constructor(
    readonly kind: SftpErrorKind,
    message: string,
  ) {
    super(message);
  }
  /** Whether trying again later can help (a wrong password or host key will not fix itself). */
  get transient(): boolean {
    return this.kind === 'network' || this.kind === 'timeout' || this.kind === 'remote';
  }
}

export interface SftpCredentials {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly hostKeySha256: string;
  readonly password?: string | undefined;
  readonly privateKey?: string | undefined;
  readonly passphrase?: string | undefined;
  readonly timeoutMs: number;
}

export interface RemoteEntry {
  readonly name: string;
  readonly size: number;
}

export interface SftpSession {
  list(dir: string): Promise<RemoteEntry[]>;
  read(path: string): Promise<Buffer>;
  write(path: string, data: Buffer): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
}

/** "SHA256:<base64 without padding>", the form `ssh-keygen -l` prints. */
export function hostKeyFingerprint(key: Buffer): string {
  return 'SHA256:' + crypto.createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

function statusError(err: unknown, what: string): SftpError {
  const code = (err as { code?: unknown }).code;
  if (code === SFTP_NO_SUCH_FILE) return new SftpError('not_found', `${what}: no such file`);
  if (code === SFTP_PERMISSION_DENIED) return new SftpError('permission', `${what}: permission denied`);
  return new SftpError('remote', `${what}: the bank's SFTP server refused (status ${String(code)})`);
}

export async function withSftp<T>(c: SftpCredentials, fn: (s: SftpSession) => Promise<T>): Promise<T> {
  const client = new Client();
  let hostKeyRejected = false;
  const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end();
      reject(new SftpError('timeout', `no SFTP session with ${c.host}:${c.port} within ${c.timeoutMs} ms`));
    }, c.timeoutMs + 1000);
    client.on('ready', () => {
      client.sftp((err, s) => {
        clearTimeout(timer);
        if (err) reject(new SftpError('remote', `${c.host} refused the SFTP subsystem`));
        else resolve(s);
      });
    });
    client.on('error', (err: Error & { level?: string }) => {
      clearTimeout(timer);
      if (hostKeyRejected)
        reject(
          new SftpError(
            'host_key',
            `${c.host} presented a host key that does not match the pinned fingerprint ${c.hostKeySha256}; check with the bank before changing it`,
          ),
        );
      else if (err.level === 'client-authentication')
        reject(new SftpError('auth', `the bank's SFTP server refused user ${c.username}; check the password or key`));
      else if (err.level === 'client-timeout') reject(new SftpError('timeout', `SSH handshake with ${c.host}:${c.port} timed out`));
      else reject(new SftpError('network', `cannot reach ${c.host}:${c.port} (${err.level ?? 'connection'} error)`));
    });
    client.connect({
      host: c.host,
      port: c.port,
      username: c.username,
      ...(c.password !== undefined ? { password: c.password } : {}),
      ...(c.privateKey !== undefined ? { privateKey: c.privateKey } : {}),
      ...(c.passphrase !== undefined ? { passphrase: c.passphrase } : {}),
      readyTimeout: c.timeoutMs,
      hostVerifier: (key: Buffer) => {
        const ok = hostKeyFingerprint(key) === c.hostKeySha256;
        if (!ok) hostKeyRejected = true;
        return ok;
      },
    });
  });
  const call = <R>(what: string, op: (cb: (err: unknown, r?: R) => void) => void): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SftpError('timeout', `${what}: no answer within ${c.timeoutMs} ms`)), c.timeoutMs);
      op((err, r) => {
        clearTimeout(timer);
        if (err) reject(statusError(err, what));
        else resolve(r as R);
      });
    });
  const session: SftpSession = {
    list: async (dir) => {
      const items = await call<ssh2.FileEntryWithStats[]>(`list ${dir}`, (cb) => sftp.readdir(dir, cb));
      return items
        .filter((i) => i.filename !== '.' && i.filename !== '..' && (i.attrs.mode === undefined || (i.attrs.mode & 0o170000) !== 0o040000))
        .map((i) => ({ name: i.filename, size: i.attrs.size }));
    },
    read: (path) => call<Buffer>(`read ${path}`, (cb) => sftp.readFile(path, cb)),
    write: (path, data) => call<void>(`write ${path}`, (cb) => sftp.writeFile(path, data, cb)),
    rename: (from, to) => call<void>(`rename ${from}`, (cb) => sftp.rename(from, to, cb)),
    remove: (path) => call<void>(`remove ${path}`, (cb) => sftp.unlink(path, cb)),
  };
  try {
    return await fn(session);
  } finally {
    client.end();
  }
}
