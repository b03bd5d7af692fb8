// The soak's PostgreSQL (the embedded one Settle itself uses) in a process group of its own, so that the
// soak can stop it for the outage scenario and start it again on the same data, and so that an overall
// timeout can kill it with everything else. Prints one JSON line {appUrl, adminUrl}; SIGTERM stops it cleanly.
// Usage: node --import tsx soak/pg-process.ts <dataDir> <port> <database>
import { startEmbeddedPostgres } from '../src/db/embedded.ts';

const [dataDir, port, database] = process.argv.slice(2);
if (!dataDir || !port || !database) {
  process.stderr.write('usage: pg-process.ts <dataDir> <port> <database>\n');
  process.exit(2);
}
try {
  const pg = await startEmbeddedPostgres({ dataDir, port: Number(port), database, log: (l) => process.stderr.write(`${l}\n`) });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void pg.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`stopping PostgreSQL failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ ready: true, appUrl: pg.appUrl, adminUrl: pg.adminUrl })}\n`);
  setInterval(() => {}, 1 << 30); // stay up until told
} catch (e) {
  process.stderr.write(`PostgreSQL did not start: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
}
