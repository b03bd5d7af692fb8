// Settings → Card surcharge (/app/settings/surcharge): the MSP's surcharge program in a form — on/off, where
// the business is, its cost of accepting credit cards, the day the 30-day notice was filed, and what to do
// where a surcharge is not allowed. The page states the rules from the engine's own tables and shows what
// each card brand would pay. Everyone signed in reads it; the owner changes it (as PUT /api/v1/settings/
// surcharge), through the same engine function, audited settings.surcharge_updated before → after.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { isoDate } from '../../domain/rules/calendar-date.ts';
import { formatBps } from '../../domain/rules/surcharge.ts';
import { today, UseCaseError } from '../../engine/context.ts';
import { readSurchargeSettings, saveSurchargeSettings, surchargeSettingsPatch, type SurchargeSettings } from '../../engine/surcharge-settings.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { brandExamples, countryName, ownPlace, placesWithRules, surchargeCountries } from './surcharge-rules-view.ts';
import { renderStaff } from './view.ts';

type Form = Record<string, string | string[] | undefined>;
type Err = { field: string | null; message: string };
const TITLE = 'Card surcharge';
const PAGE = '/app/settings/surcharge';

export const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route reached without a caller (authorize.ts runs first)');
  return req.caller;
};
export const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();

/** "2.9", "2.90" or "2.9 %" → 290 basis points, in integers (no floats); null when it is not such a number. */
export function percentToBps(text: string): number | null {
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(text.replace(/\s*%$/, '').trim());
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}
const bpsToPercent = (bps: number): string => formatBps(bps).replace('%', '');

interface Values {
  enabled: boolean;
  msp_country: string;
  msp_region: string;
  cost: string;
  notice_filed_on: string;
  alternative: string;
  ach_discount: string;
}

const valuesOf = (s: SurchargeSettings): Values => ({
  enabled: s.enabled,
  msp_country: s.msp_country,
  msp_region: s.msp_region ?? '',
  cost: bpsToPercent(s.cost_of_acceptance_bps),
  notice_filed_on: s.notice_filed_on ?? '',
  alternative: s.alternative,
  ach_discount: bpsToPercent(s.ach_discount_bps),
});

/** The form as the engine's change, or what is wrong with it in plain words (one message per field). */
function parseForm(f: Form): { values: Values; patch: SurchargeSettings | null; errors: Err[] } {
  const values: Values = {
    enabled: one(f.enabled) === 'on',
    msp_country: one(f.msp_country).toUpperCase(),
    msp_region: one(f.msp_region).toUpperCase(),
    cost: one(f.cost),
    notice_filed_on: one(f.notice_filed_on),
    alternative: one(f.alternative),
    ach_discount: one(f.ach_discount),
  };
  const errors: Err[] = [];
  if (!surchargeCountries().some((c) => c.code === values.msp_country))
    errors.push({ field: 'msp_country', message: 'Choose the country your business is in from the list' });
  if (values.msp_region && !/^[A-Z0-9]{1,3}$/.test(values.msp_region))
    errors.push({ field: 'msp_region', message: 'Enter the state or province as its code of 1 to 3 letters, for example CO or QC, or leave it empty' });
  const cost = percentToBps(values.cost || '0');
  if (cost === null || cost > 10_000)
    errors.push({
      field: 'cost',
      message: 'Enter your cost of accepting credit cards as a percentage from 0 to 100 with up to two decimals, for example 2.90',
    });
  else if (values.enabled && cost === 0)
    errors.push({ field: 'cost', message: 'Enter your cost of accepting credit cards before turning surcharges on: a surcharge may never be more than it' });
  if (values.notice_filed_on) {
    try {
      isoDate(values.notice_filed_on);
    } catch {
      errors.push({ field: 'notice_filed_on', message: 'Enter the day you filed the notice as a date, for example 2026-03-14' });
    }
  }
  if (values.alternative !== 'absorb' && values.alternative !== 'ach_discount')
    errors.push({ field: 'alternative-absorb', message: 'Choose what happens where a surcharge is not allowed' });
  const discount = percentToBps(values.ach_discount || '0');
  if (discount === null || discount > 10_000)
    errors.push({ field: 'ach_discount', message: 'Enter the bank transfer discount as a percentage from 0 to 100 with up to two decimals, for example 2.00' });
  else if (values.alternative === 'ach_discount' && discount === 0)
    errors.push({ field: 'ach_discount', message: 'Enter the discount for paying by bank transfer, or choose to absorb the card fees' });
  if (errors.length) return { values, patch: null, errors };
  return {
    values,
    errors,
    patch: {
      enabled: values.enabled,
      msp_country: values.msp_country,
      msp_region: values.msp_region || null,
      cost_of_acceptance_bps: cost!,
      notice_filed_on: values.notice_filed_on || null,
      alternative: values.alternative as SurchargeSettings['alternative'],
      ach_discount_bps: discount!,
    },
  };
}

async function page(req: FastifyRequest, reply: FastifyReply, saved: SurchargeSettings, extra: { values?: Values; errors?: Err[]; status?: number } = {}) {
  const caller = callerOf(req);
  const on = today(new Date());
  return renderStaff(
    req,
    reply,
    'settings-surcharge',
    {
      title: TITLE,
      canEdit: roleAtLeast(caller.role, 'owner'),
      s: saved,
      where: saved.msp_region ? `${saved.msp_region}, ${countryName(saved.msp_country)}` : countryName(saved.msp_country),
      cost: formatBps(saved.cost_of_acceptance_bps),
      achDiscount: formatBps(saved.ach_discount_bps),
      v: extra.values ?? valuesOf(saved),
      errors: extra.errors ?? [],
      countries: surchargeCountries(),
      places: placesWithRules(on),
      examples: brandExamples(saved, on),
      own: ownPlace(saved, on),
      saved: (req.query as Record<string, string | undefined>)['saved'] === '1',
    },
    { status: extra.status ?? 200 },
  );
}

export function registerSurchargeSettingsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get(PAGE, async (req, reply) => page(req, reply, await withTenant(deps.ctx.db, callerOf(req).tenantId, readSurchargeSettings)));

  app.post(PAGE, async (req, reply) => {
    const caller = callerOf(req);
    const { values, patch, errors } = parseForm((req.body ?? {}) as Form);
    try {
      if (patch) {
        // The same parse the API's body gets, then the engine's own checks in the transaction.
        const change = surchargeSettingsPatch.parse(patch);
        await withTenant(deps.ctx.db, caller.tenantId, (tx) => saveSurchargeSettings(tx, caller.tenantId, change, caller.actor));
        return reply.redirect(`${PAGE}?saved=1`, 303);
      }
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      errors.push({ field: null, message: e.message });
    }
    const saved = await withTenant(deps.ctx.db, caller.tenantId, readSurchargeSettings);
    return page(req, reply, saved, { values, errors, status: 422 });
  });
}
