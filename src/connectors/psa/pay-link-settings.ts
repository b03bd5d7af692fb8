// The PSA connection's pay-link settings (connect wizard, `settle connect psa … --config`): whether Settle
// writes each invoice's pay link into the PSA, and which field of the invoice holds it (pay-link.ts).
import { z } from 'zod';
import type { PsaVendor } from './types.ts';

const FIELD_WORDS: Readonly<Record<PsaVendor, string>> = {
  connectwise: 'the caption (or id) of the invoice custom field that shows each invoice\'s "Pay now" link',
  autotask: 'Comments (the invoice comments your invoice template prints), or an invoice user-defined field',
  halopsa: 'the name (or id) of the invoice custom field that shows each invoice\'s "Pay now" link',
};

const DEFAULTS: Readonly<Record<PsaVendor, string>> = { connectwise: 'Pay Link', autotask: 'Comments', halopsa: 'CFSettlePayLink' };

export function payLinkSettings(vendor: PsaVendor) {
  return {
    payLinks: z.enum(['on', 'off']).default('on').describe("write each new invoice's pay link into the PSA (on or off)"),
    payLinkField: z.string().trim().min(1).max(100).default(DEFAULTS[vendor]).describe(FIELD_WORDS[vendor]),
  };
}

export const PAY_LINK_FIELD_DEFAULTS = DEFAULTS;
