// `settle qwc --workspace SLUG [--out FILE]`: the .qwc file for the QuickBooks Web Connector (as the staff app's
// download), addressed to PUBLIC_URL.
import { writeFileSync } from 'node:fs';
import type { Db } from '../db/pool.ts';
import type { Config } from '../config.ts';
import { workspaceQwc } from '../engine/qbd-qwc.ts';
import { publicBaseUrl } from './connect.ts';

export async function runQwc(db: Db, config: Config, tenantId: string, out: string | undefined, print: (s: string) => void): Promise<number> {
  const f = await workspaceQwc(db, tenantId, publicBaseUrl(config));
  if (!out) {
    print(f.body);
    return 0;
  }
  writeFileSync(out, f.body);
  print(`wrote ${out}: open it in the QuickBooks Web Connector (Add an application) and enter the Web Connector password`);
  return 0;
}
