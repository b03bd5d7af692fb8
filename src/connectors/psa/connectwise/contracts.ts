// The contract of a ConnectWise invoice line. ConnectWise bills recurring work under agreements; each line
// (product, time or expense entry) names its agreement (`agreement`: id, name and the agreement type's name),
// project work names its project, service work its ticket; the invoice itself can name an agreement or a
// project (`applyToType`/`applyToId` with the `agreement`/`project` references). Agreement types are names the
// MSP gives (ConnectWise ships none fixed), so the kind is read from the type name — the table below, kept in
// docs/architecture.md "Contracts" — and an agreement whose type says nothing more is managed services.
import { kindFromName, type ContractKind, type ContractRef } from '../../../domain/contracts.ts';

interface AgreementRef {
  readonly id: number;
  readonly name?: string | null | undefined;
  readonly type?: string | null | undefined;
}
interface ProjectRef {
  readonly id: number;
  readonly name?: string | null | undefined;
}
interface TicketRef {
  readonly id: number;
  readonly summary?: string | null | undefined;
}

/** Agreement type names → kind (domain/contracts.ts kindFromName); a type that says nothing is managed services. */
export function agreementKind(typeName: string | null | undefined): ContractKind {
  return kindFromName(typeName) ?? 'managed_services';
}

export function agreementContract(a: AgreementRef): ContractRef {
  return { externalId: `agreement:${a.id}`, name: a.name?.trim() || `Agreement ${a.id}`, kind: agreementKind(a.type) };
}

export function projectContract(p: ProjectRef): ContractRef {
  return { externalId: `project:${p.id}`, name: p.name?.trim() || `Project ${p.id}`, kind: 'project' };
}

/** Service-ticket work billed outside any agreement: time and materials, one "contract" per ticket. */
export function ticketContract(t: TicketRef): ContractRef {
  return { externalId: `ticket:${t.id}`, name: t.summary?.trim() ? `Ticket #${t.id}: ${t.summary.trim()}` : `Ticket #${t.id}`, kind: 'time_and_materials' };
}

/** What a line says about itself: its agreement, else its project, else its service ticket. */
export function lineContract(l: {
  agreement?: AgreementRef | null | undefined;
  project?: ProjectRef | null | undefined;
  ticket?: TicketRef | null | undefined;
  chargeToType?: string | null | undefined;
  chargeToId?: number | null | undefined;
}): ContractRef | undefined {
  if (l.agreement?.id) return agreementContract(l.agreement);
  if (l.project?.id) return projectContract(l.project);
  if (l.ticket?.id) return ticketContract(l.ticket);
  if (l.chargeToId && l.chargeToType === 'ServiceTicket') return ticketContract({ id: l.chargeToId });
  return undefined;
}

/** What the invoice says for lines that say nothing themselves (an agreement or project invoice). */
export function invoiceContract(inv: {
  applyToType?: string | null | undefined;
  applyToId?: number | null | undefined;
  agreement?: AgreementRef | null | undefined;
  project?: ProjectRef | null | undefined;
  ticket?: TicketRef | null | undefined;
}): ContractRef | undefined {
  if (inv.agreement?.id) return agreementContract(inv.agreement);
  if (inv.project?.id) return projectContract(inv.project);
  if (inv.ticket?.id) return ticketContract(inv.ticket);
  const id = inv.applyToId ?? 0;
  if (id <= 0) return undefined;
  switch (inv.applyToType) {
    case 'Agreement':
      return agreementContract({ id });
    case 'Project':
    case 'ProjectPhase':
      return projectContract({ id });
    case 'Ticket':
      return ticketContract({ id });
    default:
      return undefined;
  }
}
