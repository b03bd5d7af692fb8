// Where each PSA shows an invoice's pay link, and the check-before-write that puts it there. Every vendor
// keeps the link in a field of the invoice that its own invoice template and invoice e-mail can print:
//   ConnectWise  an invoice custom field (Setup Tables → Custom Fields, screen Invoice), by caption or id
//   Autotask     the invoice's Comments (its Invoice entity has no user-defined fields; Comments is writable
//                and printed by invoice templates) — or an invoice UDF, should the database ever have one
//   HaloPSA      an invoice custom field (Custom Fields → Invoices), by name or id
// Nothing is written on a schedule: the engine calls `write` once per link (engine/write-pay-link.ts), and
// `write` reads the invoice first and writes only when the field does not already hold the wanted value, so
// a retry after a crash finds its own earlier write and writes nothing.
import type { PsaConnector, PsaVendor } from './types.ts';
import { PAY_LINK_FIELD_DEFAULTS } from './pay-link-settings.ts';
import { ConnectWiseConnector } from './connectwise/connector.ts';
import { AutotaskConnector } from './autotask/connector.ts';
import { HaloConnector } from './halopsa/connector.ts';
import { connectWisePayLink } from './connectwise/pay-link.ts';
import { autotaskPayLink } from './autotask/pay-link.ts';
import { haloPayLink } from './halopsa/pay-link.ts';

export interface PayLinkWrite {
  readonly invoiceExternalId: string;
  /** The connection's `payLinkField`: which field of the invoice holds the link. */
  readonly field: string;
  /** The link to show; null takes Settle's link out of the field. */
  readonly url: string | null;
  /** One of a back catalogue written at once ("all open invoices"): Autotask spends its budget on it last. */
  readonly background?: boolean;
}

export interface PayLinkWriteResult {
  /** written: the PSA was changed; already: the field held the wanted value (a retry, or nothing to do). */
  readonly outcome: 'written' | 'already';
}

/** The field the connection names does not exist (or cannot be written) at the PSA; `fix` tells the MSP how. */
export class PayLinkFieldMissing extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'PayLinkFieldMissing';
  }
}

export interface PayLinkTarget {
  /** Read the invoice; write `url` into the field only when it holds something else. */
  write(input: PayLinkWrite): Promise<PayLinkWriteResult>;
  /** `settle doctor` / "Test connection": a sentence when the field is there; PayLinkFieldMissing when not. */
  check(field: string): Promise<string>;
}

export function payLinkTargetOf(psa: PsaConnector): PayLinkTarget | null {
  if (psa instanceof ConnectWiseConnector) return connectWisePayLink(psa.api);
  if (psa instanceof AutotaskConnector) return autotaskPayLink(psa.api);
  if (psa instanceof HaloConnector) return haloPayLink(psa.api);
  return null;
}

/** How staff read a connection's field setting ("an empty setting means the default"). */
export function payLinkFieldOf(vendor: string, config: Readonly<Record<string, unknown>>): string {
  const v = config['payLinkField'];
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  return PAY_LINK_FIELD_DEFAULTS[vendor as PsaVendor] ?? '';
}

/** Pay links are on unless the connection says `payLinks: "off"`. */
export const payLinksOn = (config: Readonly<Record<string, unknown>>): boolean => config['payLinks'] !== 'off';
