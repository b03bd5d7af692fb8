import { describe, expect, it } from 'vitest';
import { approvalReasons } from './autopay.ts';
import { contractJumps, uncoveredKinds, type ContractTotal } from './autopay-contracts.ts';

const c = (ref: string | null, kind: string | null, totalMinor: bigint, previousMinor: bigint | null, name = ref): ContractTotal => ({
  ref,
  name,
  kind,
  totalMinor,
  previousMinor,
  previousNumber: previousMinor === null ? null : 'INV-1',
});
const base = { amountMinor: 0n, capMinor: null, jumpPercent: 50 } as const;

describe('per-contract amount jump', () => {
  it('a project invoice after a small agreement invoice is not a jump: the project has no earlier invoice', () => {
    // last invoice: agreement $150; this one: a $9,800 project (first invoice of that project)
    const contracts = [c('project:8', 'project', 980_000n, null)];
    expect(approvalReasons({ ...base, totalMinor: 980_000n, previousTotalMinor: 15_000n, contracts })).toEqual([]);
    // the same invoice judged on totals would have been held
    expect(approvalReasons({ ...base, totalMinor: 980_000n, previousTotalMinor: 15_000n })).toEqual(['amount_jump']);
  });

  it('a jump within one contract is held, and names that contract and by how much', () => {
    const contracts = [c('agreement:1', 'managed_services', 150_000n, 150_000n, 'Managed IT'), c('agreement:2', 'per_device', 135_000n, 90_000n, 'Per Device')];
    expect(approvalReasons({ ...base, jumpPercent: 40, totalMinor: 285_000n, previousTotalMinor: 240_000n, contracts })).toEqual(['amount_jump']);
    expect(contractJumps(contracts, 40)).toEqual([
      { ref: 'agreement:2', name: 'Per Device', previousMinor: 90_000n, totalMinor: 135_000n, increaseMinor: 45_000n, percent: 50, previousNumber: 'INV-1' },
    ]);
    // exactly at the limit is not over it
    expect(contractJumps(contracts, 50)).toEqual([]);
  });

  it('lines without any contract fall back to the whole-invoice comparison', () => {
    const contracts = [c(null, null, 200_000n, 100_000n)];
    expect(approvalReasons({ ...base, totalMinor: 200_000n, previousTotalMinor: 199_000n, contracts })).toEqual([]);
    expect(approvalReasons({ ...base, totalMinor: 200_000n, previousTotalMinor: 100_000n, contracts })).toEqual(['amount_jump']);
  });

  it('in a mixed invoice the uncontracted lines are compared with the uncontracted lines before them', () => {
    const contracts = [c('agreement:1', 'managed_services', 100_000n, 100_000n), c(null, null, 30_000n, 10_000n)];
    expect(contractJumps(contracts, 50).map((j) => j.name)).toEqual(['Lines under no contract']);
  });
});

describe('contract kinds a rule covers', () => {
  const contracts = [c('agreement:1', 'managed_services', 1n, null), c('project:8', 'project', 1n, null), c(null, null, 1n, null)];
  it('names the kinds outside the rule (none = lines under no contract); null covers all', () => {
    expect(uncoveredKinds(contracts, ['managed_services', 'per_device'])).toEqual(['none', 'project']);
    expect(uncoveredKinds(contracts, ['managed_services', 'project', 'none'])).toEqual([]);
    expect(uncoveredKinds(contracts, null)).toEqual([]);
  });
  it('an invoice with a line of a kind the rule does not cover waits for approval', () => {
    const input = { ...base, jumpPercent: null, totalMinor: 1n, previousTotalMinor: null, contracts };
    expect(approvalReasons({ ...input, coveredKinds: ['managed_services'] })).toEqual(['contract_not_covered']);
    expect(approvalReasons({ ...input, coveredKinds: null })).toEqual([]);
  });
});
