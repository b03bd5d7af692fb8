// An SFTP server (ssh2's Server) over the in-memory file store: password or public-key login, the SFTP
// requests a client needs to list, read, write, rename and remove files, and a few injectable faults.
import crypto from 'node:crypto';
import ssh2 from 'ssh2';
import { MemFs } from './mem-fs.ts';

const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = utils.sftp;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

export interface SftpServerOptions {
  readonly hostKey: string; // OpenSSH private key
  readonly username: string;
  readonly password?: string;
  /** OpenSSH public key line accepted for public-key login. */
  readonly authorizedKey?: string;
  readonly fs: MemFs;
}

/** Faults a test can arm (each counts down per occurrence). */
export interface SftpFaults {
  /** Refuse the next N logins. */
  refuseLogins: number;
  /** Fail the next N renames into place (the upload stays under its temporary name). */
  failRenames: number;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
};

interface OpenFile {
  readonly path: string;
  readonly write: boolean;
  data: Buffer;
}

export function createSftpServer(o: SftpServerOptions, faults: SftpFaults): ssh2.Server {
  const allowedKey = o.authorizedKey ? utils.parseKey(o.authorizedKey) : null;
  if (allowedKey instanceof Error) throw allowedKey;
  return new Server({ hostKeys: [o.hostKey] }, (client) => {
    client.on('authentication', (ctx) => {
      if (faults.refuseLogins > 0) {
        faults.refuseLogins--;
        return ctx.reject();
      }
      if (!same(ctx.username, o.username)) return ctx.reject();
      if (ctx.method === 'password' && o.password !== undefined && same(ctx.password, o.password)) return ctx.accept();
      if (ctx.method === 'publickey' && allowedKey && ctx.key.algo === allowedKey.type && ctx.key.data.equals(allowedKey.getPublicSSH())) {
        if (!ctx.signature || !ctx.blob) return ctx.accept(); // the client asks whether the key would do
        return allowedKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject();
      }
      const methods: ssh2.AuthenticationType[] = [...(o.password !== undefined ? ['password' as const] : []), ...(allowedKey ? ['publickey' as const] : [])];
      return ctx.reject(methods);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        acceptSession().on('sftp', (acceptSftp) => serve(acceptSftp(), o.fs, faults));
      });
    });
    client.on('error', () => {
      /* a client that drops its connection is not the server's problem */
    });
  });
}

function serve(sftp: ssh2.SFTPWrapper, fs: MemFs, faults: SftpFaults): void {
  const files = new Map<number, OpenFile>();
  const dirs = new Map<number, { path: string; done: boolean }>();
  let next = 0;
  const handle = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  const id = (h: Buffer): number => (h.length === 4 ? h.readUInt32BE(0) : -1);
  const fileAttrs = (size: number, mtime: number) => ({
    mode: S_IFREG | 0o644,
    uid: 0,
    gid: 0,
    size,
    atime: Math.floor(mtime / 1000),
    mtime: Math.floor(mtime / 1000),
  });
  const dirAttrs = () => ({ mode: S_IFDIR | 0o755, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 });

  sftp.on('REALPATH', (req, p) => sftp.name(req, [{ filename: MemFs.normalize(p === '.' ? '/' : p), longname: '', attrs: dirAttrs() }]));
  const stat = (req: number, p: string): void => {
    if (fs.isDir(p)) return void sftp.attrs(req, dirAttrs());
    const f = fs.get(p);
    if (!f) return void sftp.status(req, STATUS_CODE.NO_SUCH_FILE);
    sftp.attrs(req, fileAttrs(f.data.length, f.mtime));
  };
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);
  sftp.on('OPENDIR', (req, p) => {
    if (!fs.isDir(p)) return sftp.status(req, STATUS_CODE.NO_SUCH_FILE);
    const n = next++;
    dirs.set(n, { path: p, done: false });
    sftp.handle(req, handle(n));
  });
  sftp.on('READDIR', (req, h) => {
    const d = dirs.get(id(h));
    if (!d) return sftp.status(req, STATUS_CODE.FAILURE);
    if (d.done) return sftp.status(req, STATUS_CODE.EOF);
    d.done = true;
    const entries = [
      ...fs.subdirs(d.path).map((name) => ({ filename: name, longname: `drwxr-xr-x 1 bank bank 0 Jan 1 00:00 ${name}`, attrs: dirAttrs() })),
      ...(fs.list(d.path) ?? []).map(({ name, file }) => ({
        filename: name,
        longname: `-rw-r--r-- 1 bank bank ${file.data.length} Jan 1 00:00 ${name}`,
        attrs: fileAttrs(file.data.length, file.mtime),
      })),
    ];
    if (entries.length === 0) return sftp.status(req, STATUS_CODE.EOF);
    sftp.name(req, entries);
  });
  sftp.on('OPEN', (req, p, flags) => {
    const write = (flags & OPEN_MODE.WRITE) !== 0;
    const existing = fs.get(p);
    if (!write && !existing) return sftp.status(req, STATUS_CODE.NO_SUCH_FILE);
    if (write && !fs.isDir(MemFs.normalize(p).replace(/\/[^/]*$/, '') || '/')) return sftp.status(req, STATUS_CODE.NO_SUCH_FILE);
    if (write && existing && (flags & OPEN_MODE.EXCL) !== 0) return sftp.status(req, STATUS_CODE.FAILURE);
    const n = next++;
    const truncate = (flags & OPEN_MODE.TRUNC) !== 0 || !existing;
    files.set(n, { path: p, write, data: truncate ? Buffer.alloc(0) : Buffer.from(existing!.data) });
    sftp.handle(req, handle(n));
  });
  sftp.on('READ', (req, h, offset, length) => {
    const f = files.get(id(h));
    if (!f) return sftp.status(req, STATUS_CODE.FAILURE);
    if (offset >= f.data.length) return sftp.status(req, STATUS_CODE.EOF);
    sftp.data(req, f.data.subarray(offset, Math.min(f.data.length, offset + length)));
  });
  sftp.on('WRITE', (req, h, offset, data) => {
    const f = files.get(id(h));
    if (!f || !f.write) return sftp.status(req, STATUS_CODE.FAILURE);
    const end = offset + data.length;
    if (end > f.data.length) {
      const grown = Buffer.alloc(end);
      f.data.copy(grown);
      f.data = grown;
    }
    data.copy(f.data, offset);
    sftp.status(req, STATUS_CODE.OK);
  });
  sftp.on('FSTAT', (req, h) => {
    const f = files.get(id(h));
    if (!f) return sftp.status(req, STATUS_CODE.FAILURE);
    sftp.attrs(req, fileAttrs(f.data.length, Date.now()));
  });
  sftp.on('FSETSTAT', (req) => sftp.status(req, STATUS_CODE.OK));
  sftp.on('SETSTAT', (req) => sftp.status(req, STATUS_CODE.OK));
  sftp.on('CLOSE', (req, h) => {
    const n = id(h);
    const f = files.get(n);
    if (f) {
      files.delete(n);
      // A written file becomes visible when it is closed, as on a bank's server after the transfer.
      if (f.write && !fs.put(f.path, f.data)) return sftp.status(req, STATUS_CODE.FAILURE);
      return sftp.status(req, STATUS_CODE.OK);
    }
    if (dirs.delete(n)) return sftp.status(req, STATUS_CODE.OK);
    sftp.status(req, STATUS_CODE.FAILURE);
  });
  sftp.on('RENAME', (req, from, to) => {
    if (faults.failRenames > 0) {
      faults.failRenames--;
      return sftp.status(req, STATUS_CODE.FAILURE);
    }
    sftp.status(req, fs.rename(from, to) ? STATUS_CODE.OK : STATUS_CODE.FAILURE);
  });
  sftp.on('REMOVE', (req, p) => sftp.status(req, fs.remove(p) ? STATUS_CODE.OK : STATUS_CODE.NO_SUCH_FILE));
  sftp.on('MKDIR', (req, p) => sftp.status(req, fs.mkdir(p) ? STATUS_CODE.OK : STATUS_CODE.FAILURE));
}
