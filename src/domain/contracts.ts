// The contract an invoice line is billed under, in Settle's words. Each PSA names its contracts its own way
// (ConnectWise agreements, Autotask contracts and projects, Halo contracts and recurring invoices); Settle keeps
// the PSA's id and a name staff recognise, and sorts each into one of a few kinds that autopay rules can target.
// The mapping from each vendor's types to these kinds is the table in docs/architecture.md "Contracts".

/** Settle's contract kinds: what the three PSAs distinguish, and what an MSP decides autopay by. */
export const CONTRACT_KINDS = ['managed_services', 'per_device', 'block_hours', 'project', 'time_and_materials'] as const;
export type ContractKind = (typeof CONTRACT_KINDS)[number];

/** The kind autopay rules use for lines billed under no contract at all. */
export const NO_CONTRACT = 'none' as const;
export type CoveredKind = ContractKind | typeof NO_CONTRACT;
export const COVERABLE_KINDS: readonly CoveredKind[] = [...CONTRACT_KINDS, NO_CONTRACT];

export const CONTRACT_KIND_LABELS: Readonly<Record<CoveredKind, string>> = {
  managed_services: 'Managed services (recurring agreement)',
  per_device: 'Per device / per user',
  block_hours: 'Block hours / retainer',
  project: 'Project',
  time_and_materials: 'Time and materials',
  none: 'No contract',
};

export function isContractKind(k: string): k is ContractKind {
  return (CONTRACT_KINDS as readonly string[]).includes(k);
}

export function isCoveredKind(k: string): k is CoveredKind {
  return (COVERABLE_KINDS as readonly string[]).includes(k);
}

/** A line's contract: the PSA's identity of it (prefixed by what it is, e.g. `agreement:12`), its name, its kind. */
export interface ContractRef {
  readonly externalId: string;
  readonly name: string;
  readonly kind: ContractKind;
}

/**
 * The kind a contract's name (or its type's name) says, where the PSA leaves the type to the MSP (ConnectWise
 * agreement types, Halo contract references): first match wins; null when the name says nothing.
 */
const NAME_KINDS: readonly (readonly [RegExp, ContractKind])[] = [
  [/per[\s-]?(device|user|seat|endpoint)|\bdevices?\b|\bseats?\b|endpoints?/i, 'per_device'],
  [/block|retainer|pre-?paid|pre-?pay|bank of hours/i, 'block_hours'],
  [/project/i, 'project'],
  [/time\s*(and|&)\s*materials?|\bt\s*&\s*m\b|break[\s/-]?fix/i, 'time_and_materials'],
];

export function kindFromName(name: string | null | undefined): ContractKind | null {
  const text = name ?? '';
  return NAME_KINDS.find(([re]) => re.test(text))?.[1] ?? null;
}
