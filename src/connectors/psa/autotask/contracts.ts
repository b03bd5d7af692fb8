// The contract of an Autotask billing item. A billing item names its contract (`ContractID`), its project
// (`ProjectID`) and its ticket (`TicketID`); the contract's name and type come from the Contracts entity, the
// project's name from Projects — read for a whole page of invoices at once (one `in` query each), so the
// import stays within Autotask's request budget. The kind follows the ContractType picklist (table below, kept
// in docs/architecture.md "Contracts"); Autotask has no per-device contract type — per-device billing is a
// Recurring Service contract whose services are priced per unit — so a Recurring Service contract is
// per-device when its name says so, managed services otherwise.
import { z } from 'zod';
import { kindFromName, type ContractKind, type ContractRef } from '../../../domain/contracts.ts';
import type { AutotaskApi } from './api.ts';
import type { Priority } from './budget.ts';

export const atContract = z.object({ id: z.number().int(), contractName: z.string().nullish(), contractType: z.number().int().nullish() });
export const atProject = z.object({ id: z.number().int(), projectName: z.string().nullish() });
export type AtContract = z.infer<typeof atContract>;

/** ContractType picklist → kind (1 T&M, 3 Fixed Price, 4 Block Hours, 6 Retainer, 7 Recurring Service, 8 Per Ticket). */
export function contractKind(contractType: number | null | undefined, name: string | null | undefined): ContractKind {
  switch (contractType) {
    case 1:
    case 8:
      return 'time_and_materials';
    case 3:
      return 'project';
    case 4:
    case 6:
      return 'block_hours';
    default: // 7 Recurring Service, and a type Settle does not know: billed on a schedule
      return kindFromName(name) === 'per_device' ? 'per_device' : 'managed_services';
  }
}

export interface ContractLookup {
  readonly contracts: ReadonlyMap<number, AtContract>;
  readonly projects: ReadonlyMap<number, string>;
}

export const NO_LOOKUP: ContractLookup = { contracts: new Map(), projects: new Map() };

/** The contract of a billing item: its contract, else its project, else its ticket (time and materials). */
export function billingItemContract(
  b: { contractID?: number | null | undefined; projectID?: number | null | undefined; ticketID?: number | null | undefined },
  lookup: ContractLookup = NO_LOOKUP,
): ContractRef | undefined {
  if (b.contractID) {
    const c = lookup.contracts.get(b.contractID);
    return {
      externalId: `contract:${b.contractID}`,
      name: c?.contractName?.trim() || `Contract ${b.contractID}`,
      kind: contractKind(c?.contractType, c?.contractName),
    };
  }
  if (b.projectID) return { externalId: `project:${b.projectID}`, name: lookup.projects.get(b.projectID)?.trim() || `Project ${b.projectID}`, kind: 'project' };
  if (b.ticketID) return { externalId: `ticket:${b.ticketID}`, name: `Ticket ${b.ticketID}`, kind: 'time_and_materials' };
  return undefined;
}

/** The contracts and projects a page's billing items name, one `in` query each (none when nothing is named). */
export async function lookupContracts(
  api: AutotaskApi,
  items: readonly { contractID?: number | null | undefined; projectID?: number | null | undefined }[],
  priority: Priority,
): Promise<ContractLookup> {
  const ids = (pick: (b: (typeof items)[number]) => number | null | undefined): number[] => [
    ...new Set(items.map(pick).filter((n): n is number => typeof n === 'number' && n > 0)),
  ];
  const contracts = new Map<number, AtContract>();
  const projects = new Map<number, string>();
  for (const chunk of chunked(ids((b) => b.contractID))) {
    for await (const rows of api.query('Contracts', [{ op: 'in', field: 'id', value: chunk }], priority, ['id', 'contractName', 'contractType'])) {
      for (const c of z.array(atContract).parse(rows)) contracts.set(c.id, c);
    }
  }
  for (const chunk of chunked(ids((b) => b.projectID))) {
    for await (const rows of api.query('Projects', [{ op: 'in', field: 'id', value: chunk }], priority, ['id', 'projectName'])) {
      for (const p of z.array(atProject).parse(rows)) projects.set(p.id, p.projectName ?? '');
    }
  }
  return { contracts, projects };
}

const chunked = (xs: readonly number[], n = 500): number[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));
