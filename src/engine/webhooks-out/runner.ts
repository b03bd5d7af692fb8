// The delivery runner: outbound webhooks have workers of their own, beside graphile-worker's. It listens on
// the channel the event's transaction notifies at commit (0054's settle_webhook_emit, wake.ts), keeps for each
// subscription with pending deliveries when its next one is due, and serves up to LANES subscriptions at once,
// one batch each (deliver.ts: claim with a lease, send up to 10 at a time on the receiver's kept-alive
// connections, record). A subscription whose batch was full goes to the back of the line, so a big backlog
// of one receiver does not hold the others back; a retry wakes it when it is due.
//
// Before, each subscription was a graphile-worker job on the general workers: 4 workers for 10 subscriptions
// made a burst wait for a free worker (bench/webhook-fanout p99 15–17 s), and a slow receiver held workers
// that payments and postings need. The runner has its own database pool (POOL_CONNECTIONS), so a backlog of
// deliveries never takes the connections or the workers of the other work.
//
// Nothing depends on a notification arriving: the runner looks for due deliveries in every workspace when it
// (re)connects and every SCAN_EVERY_MS, and the minute sweep notifies overdue subscriptions again. Its clock
// is ctx.now(), read afresh each time, so a test can run it on a simulated clock (it checks the clock at
// least every IDLE_CHECK_MS while a retry is waiting).
import pg from 'pg';
import { createDb, createPool, type Db } from '../../db/pool.ts';
import { withTenant } from '../../db/tenant.ts';
import type { EngineContext } from '../context.ts';
import { deliverBatch, SENDERS } from './deliver.ts';
import { ReceiverConnections } from './receivers.ts';
import { dueSubscriptions, WAKE_CHANNEL } from './wake.ts';

/** Subscriptions served at once (each up to SENDERS requests in flight). */
const LANES = 8;
const POOL_CONNECTIONS = 4;
const SCAN_EVERY_MS = 60_000;
const IDLE_CHECK_MS = 1000;
const ERROR_BACKOFF_MS = 5000;
const RECONNECT_MS = [1000, 2000, 5000, 10_000];
/** How long a stop waits for batches in flight; what they had not recorded is sent again after its lease. */
const STOP_GRACE_MS = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface DeliveryRunner {
  /** Look for due deliveries in every workspace now (what the runner does at start and every minute). */
  scan(): Promise<void>;
  stop(): Promise<void>;
}

interface Waiting {
  readonly tenantId: string;
  readonly subscriptionId: string;
  /** When it is due (ctx.now() milliseconds). */
  at: number;
  busy: boolean;
  /** Woken while a batch of it was in flight: look again as soon as that batch ends. */
  woken: boolean;
}

export async function startDeliveryRunner(ctx: EngineContext, connectionString: string, opts: { lanes?: number } = {}): Promise<DeliveryRunner> {
  const lanes = opts.lanes ?? LANES;
  const pool = createPool(connectionString, POOL_CONNECTIONS);
  const db: Db = createDb(pool);
  // The engine's context with the runner's own pool; every other field is read through to ctx as it is now
  // (a test sets ctx.now to its clock, the bench allows private receivers, after the start).
  const rctx = Object.create(ctx, { db: { value: db } }) as EngineContext;
  const receivers = new ReceiverConnections(SENDERS);
  const waiting = new Map<string, Waiting>();
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let timer: NodeJS.Timeout | null = null;
  const now = (): number => rctx.now().getTime();

  const schedule = (tenantId: string, subscriptionId: string, at: number): void => {
    const w = waiting.get(subscriptionId);
    if (!w) waiting.set(subscriptionId, { tenantId, subscriptionId, at, busy: false, woken: false });
    else if (w.busy) w.woken ||= at <= now();
    else w.at = Math.min(w.at, at);
    pump();
  };

  const pump = (): void => {
    if (stopping) return;
    if (timer) clearTimeout(timer);
    timer = null;
    const t = now();
    const idle = [...waiting.values()].filter((w) => !w.busy);
    for (const w of idle.filter((x) => x.at <= t).sort((a, b) => a.at - b.at)) {
      if (inFlight.size >= lanes) return; // a lane that ends pumps again
      serve(w);
    }
    const soonest = Math.min(...idle.filter((w) => !w.busy).map((w) => w.at));
    if (Number.isFinite(soonest)) timer = setTimeout(pump, Math.max(0, Math.min(soonest - t, IDLE_CHECK_MS)));
  };

  const serve = (w: Waiting): void => {
    w.busy = true;
    w.woken = false;
    const lane = deliverBatch(rctx, w.tenantId, w.subscriptionId, (id, target) => receivers.agentsFor(id, target))
      .then(
        (r) => {
          if (r.gone) waiting.delete(w.subscriptionId);
          else if (r.full || w.woken) w.at = now();
          // A due time read back in milliseconds can be a fraction before the stored microseconds: a batch
          // that found nothing due waits for the clock to move rather than claiming again at once.
          else if (r.nextDue) w.at = Math.max(r.nextDue.getTime(), r.sent === 0 ? now() + 1 : 0);
          else waiting.delete(w.subscriptionId);
        },
        (e: unknown) => {
          ctx.log.error({ err: e, subscription: w.subscriptionId }, 'webhook delivery batch failed; trying again shortly');
          w.at = now() + ERROR_BACKOFF_MS;
        },
      )
      .finally(() => {
        w.busy = false;
        inFlight.delete(lane);
        pump();
      });
    inFlight.add(lane);
  };

  const scan = async (): Promise<void> => {
    const until = new Date(now() + SCAN_EVERY_MS);
    const tenants = await db.selectFrom('tenants').select('id').execute();
    for (const t of tenants) {
      const due = await withTenant(db, t.id, (tx) => dueSubscriptions(tx, until));
      for (const d of due) schedule(t.id, d.subscriptionId, d.at.getTime());
    }
    receivers.closeIdle(SCAN_EVERY_MS);
  };
  const scanLogged = (): void => {
    scan().catch((e: unknown) => ctx.log.warn({ err: (e as Error).message }, 'looking for due webhook deliveries failed; trying again in a minute'));
  };

  // The LISTEN connection, reconnected with back-off; each (re)connection is followed by a scan, since
  // notifications sent while no one listened are gone.
  let listener: pg.Client | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let failures = 0;
  const listen = async (): Promise<void> => {
    const client = new pg.Client({ connectionString });
    const lost = (): void => {
      if (listener !== client) return;
      listener = null;
      client.end().catch(() => {});
      if (!stopping) retry();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (m) => {
      if (m.channel !== WAKE_CHANNEL) return;
      // '<workspace> <subscription>' (wake.ts, 0054); anything else only prompts a look at everything due.
      const [tenantId, subscriptionId] = (m.payload ?? '').split(' ');
      if (tenantId && subscriptionId && UUID.test(tenantId) && UUID.test(subscriptionId)) schedule(tenantId, subscriptionId, 0);
      else scanLogged();
    });
    listener = client;
    await client.connect();
    await client.query(`LISTEN ${WAKE_CHANNEL}`);
    failures = 0;
    scanLogged();
  };
  const retry = (): void => {
    if (reconnectTimer || stopping) return;
    const delay = RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)]!;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      listen().catch((e: unknown) => {
        ctx.log.warn({ err: (e as Error).message }, 'webhook runner could not listen for wake-ups; trying again');
        const c = listener;
        listener = null;
        c?.end().catch(() => {});
        retry();
      });
    }, delay);
  };

  try {
    await listen();
  } catch (e) {
    // The database is away at start: keep trying in the background (the worker starts all the same).
    ctx.log.warn({ err: (e as Error).message }, 'webhook runner could not listen for wake-ups; trying again');
    listener = null;
    retry();
  }
  const every = setInterval(scanLogged, SCAN_EVERY_MS);

  return {
    scan,
    stop: async () => {
      stopping = true;
      clearInterval(every);
      if (timer) clearTimeout(timer);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const c = listener;
      listener = null;
      await c?.end().catch(() => {});
      let graceTimer: NodeJS.Timeout | null = null;
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => (graceTimer = setTimeout(r, STOP_GRACE_MS)))]);
      if (graceTimer) clearTimeout(graceTimer);
      receivers.destroy();
      await db.destroy().catch(() => {});
    },
  };
}
