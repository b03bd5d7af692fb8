import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portOfRunningCluster } from './embedded.ts';

// A `settle` command that shares the cluster `npm start` runs must connect on the port that run chose
// (SETTLE_PG_PORT), which PostgreSQL records on the fourth line of postmaster.pid.
describe('portOfRunningCluster', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const clusterWith = (pidFile: string | null): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-pgport-'));
    dirs.push(dir);
    if (pidFile !== null) fs.writeFileSync(path.join(dir, 'postmaster.pid'), pidFile);
    return dir;
  };

  it('reads the port the running server listens on', () => {
    expect(portOfRunningCluster(clusterWith('4242\n/var/lib/settle/pg\n1765000000\n54611\n/tmp\n127.0.0.1\n'))).toBe(54611);
  });

  it('is null without a pid file or with one that names no port', () => {
    expect(portOfRunningCluster(clusterWith(null))).toBeNull();
    expect(portOfRunningCluster(clusterWith('4242\n/x\n'))).toBeNull();
    expect(portOfRunningCluster(clusterWith('4242\n/x\n1\nnot-a-port\n'))).toBeNull();
  });
});
