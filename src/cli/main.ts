// The `settle` command.
import fs from 'node:fs';
import { loadConfig } from '../config.ts';
import { createLogger } from './logger.ts';
import { flag, parseArgs, requireFlag, UsageError, type Args } from './args.ts';
import { openDatabase, startSettle, type Running } from './runtime.ts';
import { createWorkspace, tenantIdBySlug } from './workspace.ts';
import { ConnectorCache } from '../engine/connections.ts';
import { SecretBox } from '../db/crypto.ts';
import { doctor } from './doctor.ts';
import { passwordProblem } from '../domain/password-policy.ts';

const HELP = `settle — payments and reconciliation for MSPs

  settle start                 API, worker and pages in one process (demo workspace when nothing is configured)
  settle worker                background worker only (run any number)
  settle migrate               apply database migrations and exit
  settle demo                  start with the demo workspace even if other workspaces exist
  settle doctor                check the database and every connection, and say how to fix what is wrong
  settle simulator <vendor> [--port N] [--latency-ms 100-300]   run a vendor simulator on its own (connectwise | halopsa | autotask | stripe | quickbooks-online | xero | quickbooks-desktop | bank-sftp); PSAs add the latency to every call
  settle workspace create <slug> --name NAME --admin-email EMAIL --admin-password PASSWORD
  settle api-key create --workspace SLUG --role viewer|finance|owner [--name NAME] [--expires 90d|DATE]
  settle api-key list --workspace SLUG        every key: role, expiry, last use, revoked or not
  settle api-key revoke --workspace SLUG ID|PREFIX
  settle user unlock --workspace SLUG EMAIL [--address IP]   lift a sign-in lock (after repeated failed sign-ins)
  settle user add --workspace SLUG EMAIL --role ROLE [--name NAME] [--password PW]   (no password: prints an invitation link)
  settle user list --workspace SLUG
  settle user remove --workspace SLUG EMAIL
  settle user reset-password --workspace SLUG EMAIL [--password PW] [--clear-second-factor]   (no password: prints a reset link)
  settle connect <psa|payments|accounting|bank_ach> <vendor> --workspace SLUG --config JSON --secrets JSON
  settle qwc --workspace SLUG [--out FILE]   the .qwc file for the QuickBooks Web Connector (QuickBooks Desktop books)
  settle ach inspect FILE      print a NACHA file as JSON; non-zero exit naming the record and field if invalid
  settle collections run --workspace SLUG      a Collections Assist run now (claim, compose) and its reminders sent
  settle collections status --workspace SLUG   on/off, sending hours, reminders waiting/sent/refused, holds, escalations
  settle pay-links write-open --workspace SLUG   a pay link for every open invoice without one, each written into the PSA once
  settle keys rotate [--new-key HEX]   new instance key; every sealed secret re-sealed (stop Settle first; links keep working)

Environment: DATABASE_URL (else embedded PostgreSQL in .settle/), SETTLE_SECRET_KEY (64 hex; else generated
into .settle/secret.key), PORT (4400), HOST, PUBLIC_URL, SETTLE_DEMO (auto|on|off),
SETTLE_DEMO_PSA (connectwise|autotask|halopsa: the PSA the demo runs on), LOG_LEVEL.`;

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const [command, ...rest] = args.positional;
  switch (command) {
    case 'start':
      return serve(args, { http: true, worker: true });
    case 'worker':
      return serve(args, { http: false, worker: true });
    case 'demo':
      process.env.SETTLE_DEMO = 'on';
      return serve(args, { http: true, worker: true });
    case 'migrate': {
      const config = loadConfig();
      const log = createLogger(config.LOG_LEVEL);
      const db = await openDatabase(config, log);
      await db.close();
      console.log('database is up to date');
      return 0;
    }
    case 'doctor':
      return runDoctor();
    case 'simulator':
      // PSA simulators: a per-call latency, "200" or a uniform range "100-300" (ms); also SETTLE_SIM_LATENCY_MS.
      if (flag(args, 'latency-ms')) process.env.SETTLE_SIM_LATENCY_MS = flag(args, 'latency-ms')!;
      return runSimulator(rest[0], Number(flag(args, 'port') ?? 0));
    case 'workspace':
      if (rest[0] !== 'create' || !rest[1])
        throw new UsageError('usage: settle workspace create <slug> --name NAME --admin-email EMAIL --admin-password PASSWORD');
      return withDb(async ({ db }) => {
        const id = await createWorkspace(db, {
          slug: rest[1]!,
          name: requireFlag(args, 'name', "the MSP's name"),
          adminEmail: requireFlag(args, 'admin-email', 'first staff user'),
          adminPassword: allowedPassword(requireFlag(args, 'admin-password', 'at least 12 characters'), args, rest[1]!),
          actor: 'system:cli',
        });
        console.log(`workspace ${rest[1]} created (${id})`);
      });
    case 'api-key': {
      const { API_KEY_USAGE, runApiKeyCommand } = await import('./api-keys.ts');
      if (rest[0] !== 'create' && rest[0] !== 'list' && rest[0] !== 'revoke') throw new UsageError(API_KEY_USAGE);
      return withDb(({ db }) => runApiKeyCommand(db, rest[0], args, console.log, console.error));
    }
    case 'user': {
      // B1's add|list|remove|reset-password join here; unlock lifts a sign-in lock (cli/user-unlock.ts).
      if (rest[0] === 'unlock') {
        const { runUserUnlock } = await import('./user-unlock.ts');
        return withDb(({ db }) => runUserUnlock(db, args, console.log));
      }
      const { runUserCommand, USER_USAGE } = await import('./user.ts');
      if (!['add', 'list', 'remove', 'reset-password'].includes(rest[0] ?? ''))
        throw new UsageError(`${USER_USAGE}\n  settle user unlock --workspace SLUG EMAIL [--address IP]`);
      return withDb(({ db }) => runUserCommand(db, loadConfig().publicUrl, rest[0], args, console.log));
    }
    case 'keys': {
      // A new instance key; every sealed value re-sealed under it (cli/keys.ts, docs/security.md).
      const { KEYS_USAGE, runKeysRotate } = await import('./keys.ts');
      if (rest[0] !== 'rotate') throw new UsageError(KEYS_USAGE);
      return withDb(({ db }) => runKeysRotate(db, loadConfig(), args, console.log));
    }
    case 'connect': {
      let code = 0;
      await withDb(async ({ db }) => {
        const [role, vendor] = rest;
        if (role !== 'psa' && role !== 'payments' && role !== 'accounting' && role !== 'bank_ach')
          throw new UsageError('the role is psa, payments, accounting or bank_ach');
        if (!vendor) throw new UsageError('name the vendor, e.g. settle connect psa connectwise …');
        const config = loadConfig();
        const tenantId = await tenantIdBySlug(db, requireFlag(args, 'workspace', 'workspace slug'));
        // Saves, then registers the PSA's callback at PUBLIC_URL and queues the first import (cli/connect.ts).
        const { runConnect } = await import('./connect.ts');
        code = await runConnect(db, config, createLogger('warn'), tenantId, {
          role,
          vendor,
          config: jsonFlag(args, 'config'),
          secrets: jsonFlag(args, 'secrets'),
        });
      });
      return code;
    }
    case 'qwc': {
      let code = 0;
      await withDb(async ({ db }) => {
        const { runQwc } = await import('./qwc.ts');
        code = await runQwc(db, loadConfig(), await tenantIdBySlug(db, requireFlag(args, 'workspace', 'workspace slug')), flag(args, 'out'), console.log);
      });
      return code;
    }
    case 'pay-links': {
      let code = 0;
      const { runPayLinksCommand } = await import('./pay-links.ts');
      await withDb(async ({ db }) => {
        code = await runPayLinksCommand(db, rest, args, console.log);
      });
      return code;
    }
    case 'collections': {
      const { runCollectionsCommand, withEngine } = await import('./collections.ts');
      return withEngine(loadConfig(), createLogger('warn'), (ctx) => runCollectionsCommand(ctx, rest, args, console.log));
    }
    case 'ach': {
      if (rest[0] !== 'inspect' || !rest[1]) throw new UsageError('usage: settle ach inspect FILE');
      const { runInspect } = await import('../connectors/payments/bank-ach/nacha/inspect.ts');
      return runInspect([rest[1]], process.stdout, process.stderr);
    }
    case undefined:
    case 'help':
    case '--help':
      console.log(HELP);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${HELP}`);
  }
}

/** The first owner's password, checked against the staff password policy (domain/password-policy.ts). */
function allowedPassword(password: string, args: Args, workspace: string): string {
  const problem = passwordProblem(password, { workspace, ...(flag(args, 'admin-email') ? { email: flag(args, 'admin-email')! } : {}) });
  if (problem) throw new UsageError(`--admin-password: ${problem}`);
  return password;
}

function jsonFlag(args: Args, name: string): Record<string, unknown> {
  const text = requireFlag(args, name, 'a JSON object');
  try {
    const v = JSON.parse(text.startsWith('@') ? fs.readFileSync(text.slice(1), 'utf8') : text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`--${name} must be a JSON object (or @file.json): ${(e as Error).message}`);
  }
}

async function withDb(fn: (d: Awaited<ReturnType<typeof openDatabase>>) => Promise<void>): Promise<number> {
  const config = loadConfig();
  const d = await openDatabase(config, createLogger('warn'));
  try {
    await fn(d);
  } finally {
    await d.close();
  }
  return 0;
}

async function runDoctor(): Promise<number> {
  const config = loadConfig();
  let findings;
  const d = await openDatabase(config, createLogger('warn')).catch((e: unknown) => {
    console.log(`✗ database: ${(e as Error).message}`);
    return null;
  });
  if (!d) return 1;
  try {
    findings = await doctor(d.db, new ConnectorCache(d.db, SecretBox.load(config.SETTLE_SECRET_KEY, config.SETTLE_DATA_DIR)));
  } finally {
    await d.close();
  }
  for (const f of findings) console.log(`${f.ok ? (f.warning ? '!' : '✓') : '✗'} ${f.what}: ${f.detail}`);
  return findings.every((f) => f.ok) ? 0 : 1;
}

async function runSimulator(vendor: string | undefined, port: number): Promise<number> {
  const sims: Record<string, () => Promise<unknown>> = {
    connectwise: async () => (await import('../../simulators/connectwise/index.ts')).runStandalone(port),
    halopsa: async () => (await import('../../simulators/halopsa/index.ts')).runStandalone(port),
    autotask: async () => (await import('../../simulators/autotask/index.ts')).runStandalone(port),
    stripe: async () => (await import('../../simulators/stripe/index.ts')).runStandalone(port),
    'quickbooks-online': async () => (await import('../../simulators/quickbooks-online/index.ts')).runStandalone(port),
    xero: async () => (await import('../../simulators/xero/index.ts')).runStandalone(port),
    'quickbooks-desktop': async () => (await import('../../simulators/quickbooks-desktop/index.ts')).runStandalone(port),
    'bank-sftp': async () => (await import('../../simulators/bank-sftp/index.ts')).runStandalone(port),
  };
  const start = vendor ? sims[vendor] : undefined;
  if (!start) throw new UsageError(`name a simulator: ${Object.keys(sims).join(', ')}`);
  await start();
  await new Promise(() => {}); // runs until interrupted
  return 0;
}

async function serve(_args: Args, roles: { http: boolean; worker: boolean }): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  // Signals are handled from the first moment. A SIGTERM during start-up lets start-up reach a point where
  // everything it started can be stopped in order (no orphaned PostgreSQL, no stack trace), then exits 0.
  let signalled: string | null = null;
  let stopNow: ((signal: string) => void) | null = null;
  const onSignal = (signal: string): void => {
    if (stopNow) return stopNow(signal);
    if (signalled) return;
    signalled = signal;
    log.info({ signal }, 'stopping as soon as start-up can be undone');
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const running: Running = await startSettle(config, log, roles);
  let demo: { stop(): Promise<void> } | null = null;
  if (roles.http && !signalled) {
    const { maybeStartDemo } = await import('./demo/start-demo.ts');
    try {
      demo = await maybeStartDemo(running, config, log);
    } catch (e) {
      await running.stop().catch(() => {});
      if (signalled) return 0;
      throw e;
    }
  }
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await demo?.stop().catch(() => {});
    await running.stop().catch((e: unknown) => log.error({ err: e }, 'error while stopping'));
    process.exit(0);
  };
  stopNow = (signal) => void stop(signal);
  if (signalled) return stop(signalled).then(() => 0);
  // Every workspace's PSA callback checked (re-created if deleted or changed, moved to PUBLIC_URL) in the background.
  if (running.url) (await import('./connect.ts')).registerCallbacksOnStart(running, config, log);
  if (!demo && running.url) log.info({ url: running.url, database: running.database.embedded?.clusterDir ?? 'DATABASE_URL' }, 'Settle is running');
  await new Promise(() => {});
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) console.error(e.message);
    else console.error(`settle: ${(e as Error).message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
