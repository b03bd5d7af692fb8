// Keep-alive connections per receiver, kept by the delivery runner across batches: a burst to one URL reuses a
// few open connections instead of opening one per delivery (and per batch). Keyed by the subscription and
// the address the SSRF guard checked for this batch: when the name resolves elsewhere, the old connections
// are closed and new ones go to the newly checked address, so a kept connection never outlives its check.
import type { CheckedUrl } from './address-guard.ts';
import { KeptAgents } from './send.ts';

interface Kept {
  readonly address: string;
  readonly agents: KeptAgents;
  usedAt: number;
}

export class ReceiverConnections {
  private readonly kept = new Map<string, Kept>();
  constructor(private readonly socketsPerReceiver: number) {}

  agentsFor(subscriptionId: string, target: CheckedUrl): KeptAgents {
    const address = `${target.url.protocol}//${target.address}:${target.url.port}`;
    let k = this.kept.get(subscriptionId);
    if (k && k.address !== address) {
      k.agents.destroy();
      k = undefined;
    }
    if (!k) {
      k = { address, agents: new KeptAgents(this.socketsPerReceiver), usedAt: 0 };
      this.kept.set(subscriptionId, k);
    }
    k.usedAt = Date.now();
    return k.agents;
  }

  /** Close the connections of receivers not sent to for `idleMs` (a subscription that went quiet or away). */
  closeIdle(idleMs: number): void {
    const before = Date.now() - idleMs;
    for (const [id, k] of this.kept)
      if (k.usedAt < before) {
        k.agents.destroy();
        this.kept.delete(id);
      }
  }

  destroy(): void {
    for (const k of this.kept.values()) k.agents.destroy();
    this.kept.clear();
  }
}
