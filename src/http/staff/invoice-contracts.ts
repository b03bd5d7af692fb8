// The contracts an invoice's lines are billed under, for its staff page: each contract once, with its kind in
// words and the sum of its lines (Money is bigint minor units; the template formats it).
import { CONTRACT_KIND_LABELS, isContractKind } from '../../domain/contracts.ts';

export function kindLabel(kind: string | null): string {
  return kind && isContractKind(kind) ? CONTRACT_KIND_LABELS[kind] : 'no contract';
}

export interface InvoiceContract {
  readonly ref: string;
  readonly name: string;
  readonly kindText: string;
  readonly totalMinor: bigint;
}

export function invoiceContracts(
  lines: readonly { contract_ref: string | null; contract_name: string | null; contract_kind: string | null; amount_minor: bigint }[],
): InvoiceContract[] {
  const byRef = new Map<string, InvoiceContract>();
  for (const l of lines) {
    if (l.contract_ref === null) continue;
    const seen = byRef.get(l.contract_ref);
    byRef.set(l.contract_ref, {
      ref: l.contract_ref,
      name: l.contract_name ?? l.contract_ref,
      kindText: kindLabel(l.contract_kind),
      totalMinor: (seen?.totalMinor ?? 0n) + l.amount_minor,
    });
  }
  return [...byRef.values()];
}
