// The simulated bank's file store: directories of files in memory. Enough of a filesystem for SFTP
// (list, read, write, rename, remove) with the semantics that matter to the connector: a rename onto an
// existing name fails (SFTP v3), and every completed write into the inbound directory is logged so tests
// can count what was really delivered.
import crypto from 'node:crypto';
import path from 'node:path/posix';

export interface StoredFile {
  readonly data: Buffer;
  readonly mtime: number;
}

export interface DeliveryLogEntry {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly at: number;
}

export class MemFs {
  private readonly dirs = new Map<string, Map<string, StoredFile>>();
  /** Files that appeared under their final name in a watched directory (upload or rename). */
  readonly deliveries: DeliveryLogEntry[] = [];

  constructor(
    dirs: readonly string[],
    private readonly watched: ReadonlySet<string> = new Set(),
  ) {
    this.dirs.set('/', new Map());
    for (const d of dirs) this.mkdir(d);
  }

  static normalize(p: string): string {
    const n = path.normalize(path.isAbsolute(p) ? p : `/${p}`);
    return n.length > 1 ? n.replace(/\/$/, '') : n;
  }

  isDir(p: string): boolean {
    return this.dirs.has(MemFs.normalize(p));
  }

  mkdir(p: string): boolean {
    const n = MemFs.normalize(p);
    if (this.dirs.has(n)) return false;
    this.dirs.set(n, new Map());
    return true;
  }

  list(dir: string): { name: string; file: StoredFile }[] | null {
    const d = this.dirs.get(MemFs.normalize(dir));
    if (!d) return null;
    return [...d.entries()].map(([name, file]) => ({ name, file })).sort((a, b) => a.name.localeCompare(b.name));
  }

  subdirs(dir: string): string[] {
    const n = MemFs.normalize(dir);
    return [...this.dirs.keys()].filter((d) => d !== n && path.dirname(d) === n).map((d) => path.basename(d));
  }

  get(p: string): StoredFile | null {
    const n = MemFs.normalize(p);
    return this.dirs.get(path.dirname(n))?.get(path.basename(n)) ?? null;
  }

  put(p: string, data: Buffer): boolean {
    const n = MemFs.normalize(p);
    const d = this.dirs.get(path.dirname(n));
    if (!d) return false;
    d.set(path.basename(n), { data, mtime: Date.now() });
    this.logDelivery(n, data);
    return true;
  }

  remove(p: string): boolean {
    const n = MemFs.normalize(p);
    return this.dirs.get(path.dirname(n))?.delete(path.basename(n)) ?? false;
  }

  /** SFTP v3 rename: fails when the source is missing or the target exists. */
  rename(from: string, to: string): boolean {
    const f = MemFs.normalize(from);
    const t = MemFs.normalize(to);
    const file = this.get(f);
    const target = this.dirs.get(path.dirname(t));
    if (!file || !target || target.has(path.basename(t))) return false;
    this.remove(f);
    target.set(path.basename(t), file);
    this.logDelivery(t, file.data);
    return true;
  }

  private logDelivery(p: string, data: Buffer): void {
    if (!this.watched.has(path.dirname(p)) || p.endsWith('.part')) return;
    this.deliveries.push({ path: p, sha256: crypto.createHash('sha256').update(data).digest('hex'), size: data.length, at: Date.now() });
  }
}
