// The PostgreSQL the soak's Settle processes share: DATABASE_URL (a fresh database on it, as the benchmarks
// do; the outage scenario then cannot stop the server and is skipped), or the embedded PostgreSQL in a
// process group of its own (soak/pg-process.ts) that the soak can stop and start again on the same data.
import fs from 'node:fs';
import path from 'node:path';
import { spawnGroup, type GroupChild } from '../../bench/lib/process-group.ts';
import { createBenchDatabase, freePort } from '../../bench/lib/pg.ts';

export interface SoakDatabase {
  readonly url: string;
  /** Whether stop()/restart() can take the server down (embedded only). */
  readonly controllable: boolean;
  /** Stop the server (clean fast shutdown); connections fail until restart(). */
  stopServer(): Promise<void>;
  restartServer(): Promise<void>;
  /** Stop and remove the database; with `keep`, stop it and say how to open it again (null when removed). */
  close(opts?: { keep?: boolean }): Promise<string | null>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

export async function openSoakDatabase(workDir: string, logDir: string): Promise<SoakDatabase> {
  if (process.env.DATABASE_URL) {
    const db = await createBenchDatabase(process.env.DATABASE_URL, 'soak');
    const refuse = async (): Promise<void> => {
      throw new Error('the PostgreSQL outage needs the embedded server (DATABASE_URL is set)');
    };
    return {
      url: db.url,
      controllable: false,
      stopServer: refuse,
      restartServer: refuse,
      close: async (opts) => {
        if (opts?.keep) return db.url;
        await db.drop();
        return null;
      },
    };
  }
  // A folder of its own under the temp dir: as root the server runs as the postgres OS user, which must be
  // able to reach it (startEmbeddedPostgres opens up the data folder itself, not its parents).
  const dataDir = fs.mkdtempSync(path.join(path.dirname(workDir), 'settle-soak-pg-'));
  const port = await freePort();
  const logFile = path.join(logDir, 'postgres.log');
  let current: GroupChild | null = null;
  const start = async (): Promise<{ appUrl: string }> => {
    const out = fs.openSync(logFile, 'a');
    const g = spawnGroup(process.execPath, ['--import', 'tsx', path.join(ROOT, 'soak/pg-process.ts'), dataDir, String(port), 'settle_soak'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', out],
    });
    fs.closeSync(out);
    current = g;
    let buffer = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start in 120 s; see ${logFile}`)), 120_000);
      g.child.stdout?.on('data', (d: Buffer) => {
        buffer += d.toString();
        const line = buffer.split('\n').find((l) => l.startsWith('{'));
        if (!line) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { appUrl: string });
      });
      void g.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`PostgreSQL process exited (${signal ?? code}) before it was ready; see ${logFile}`));
      });
    });
  };
  const stop = async (): Promise<void> => {
    const g = current;
    if (!g) return;
    current = null;
    g.kill('SIGTERM');
    const t = setTimeout(() => g.kill('SIGKILL'), 30_000);
    await g.exited;
    clearTimeout(t);
  };
  const { appUrl } = await start();
  return {
    url: appUrl,
    controllable: true,
    stopServer: stop,
    restartServer: async () => {
      await start();
    },
    close: async (opts) => {
      await stop();
      if (opts?.keep) return `${dataDir}/pg (start: postgres -D ${dataDir}/pg -p ${port}, as the postgres user when root; then ${appUrl})`;
      fs.rmSync(dataDir, { recursive: true, force: true });
      return null;
    },
  };
}
