// Autopay and contracts, pure. An MSP's client is billed under several contracts at once (a managed-services
// agreement, per-device billing, a project, a retainer), each on its own invoices and at its own size. So the
// amount-jump check compares each contract with itself — the sum of the contract's lines on this invoice with
// the same contract's lines on the client's latest earlier invoice that had that contract — and not a project
// invoice with last month's agreement invoice. And a rule can say which contract kinds it charges: an invoice
// with a line of another kind waits for staff. Integer arithmetic only.
import { NO_CONTRACT } from './contracts.ts';

/** One contract's lines on an invoice (ref null: the lines under no contract), and on its previous invoice. */
export interface ContractTotal {
  readonly ref: string | null;
  readonly name: string | null;
  readonly kind: string | null;
  readonly totalMinor: bigint;
  /** The same contract's lines on the client's latest earlier invoice that had it; null: none before. */
  readonly previousMinor: bigint | null;
  /** That earlier invoice's number, for staff. */
  readonly previousNumber: string | null;
}

export interface ContractJump {
  readonly ref: string | null;
  readonly name: string;
  readonly previousMinor: bigint;
  readonly totalMinor: bigint;
  readonly increaseMinor: bigint;
  /** Whole percent above the previous amount, rounded down (for display; the test itself is exact). */
  readonly percent: number;
  readonly previousNumber: string | null;
}

/** True when any line of the invoice is billed under a contract: then contracts are compared one by one. */
export function hasContracts(contracts: readonly ContractTotal[]): boolean {
  return contracts.some((c) => c.ref !== null);
}

/** `total` more than `percent` % above `previous` (previous > 0): total × 100 > previous × (100 + p). */
export function jumped(totalMinor: bigint, previousMinor: bigint, percent: number): boolean {
  return previousMinor > 0n && totalMinor * 100n > previousMinor * BigInt(100 + percent);
}

/**
 * The contracts whose lines grew more than `percent` % against the same contract's lines on its previous
 * invoice. A contract seen for the first time (no previous) is not a jump; the lines under no contract on an
 * invoice that also has contract lines are compared with the uncontracted lines before them, the same way.
 */
export function contractJumps(contracts: readonly ContractTotal[], percent: number): ContractJump[] {
  const out: ContractJump[] = [];
  for (const c of contracts) {
    if (c.previousMinor === null || !jumped(c.totalMinor, c.previousMinor, percent)) continue;
    const increase = c.totalMinor - c.previousMinor;
    out.push({
      ref: c.ref,
      name: c.ref === null ? 'Lines under no contract' : (c.name ?? c.ref),
      previousMinor: c.previousMinor,
      totalMinor: c.totalMinor,
      increaseMinor: increase,
      percent: Number((increase * 100n) / c.previousMinor),
      previousNumber: c.previousNumber,
    });
  }
  return out;
}

/** The kinds on the invoice (`none` for lines under no contract) that a rule covering `covered` does not. */
export function uncoveredKinds(contracts: readonly ContractTotal[], covered: readonly string[] | null | undefined): string[] {
  if (covered === null || covered === undefined) return [];
  // An invoice without lines cannot show what it is billed under: it counts as under no contract.
  const kinds = new Set(contracts.length === 0 ? [NO_CONTRACT] : contracts.map((c) => c.kind ?? NO_CONTRACT));
  return [...kinds].filter((k) => !covered.includes(k)).sort();
}

/** The invoice's contracts of the given kinds, by name, for staff. */
export function contractsOfKinds(contracts: readonly ContractTotal[], kinds: readonly string[]): string[] {
  return contracts.filter((c) => kinds.includes(c.kind ?? NO_CONTRACT) && c.ref !== null).map((c) => c.name ?? c.ref!);
}
