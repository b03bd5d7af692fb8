// A client's surcharge facts (/app/clients/:id/surcharge): its billing location — the surcharge rules of its
// state or province apply as well as the MSP's, the stricter wins; no country recorded means never surcharged —
// and an exemption with its reason. Finance changes them, as PUT /api/v1/clients/:id/surcharge does, through
// the same engine function (saveClientSurcharge), audited client.surcharge_updated before → after. Linked from
// the client page's "Surcharge location".
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { today, UseCaseError } from '../../engine/context.ts';
import { clientSurchargePatch, readClientSurcharge, readSurchargeSettings, saveClientSurcharge } from '../../engine/surcharge-settings.ts';
import type { HttpDeps } from '../deps.ts';
import { notFound } from './payments.ts';
import { callerOf, one } from './settings-surcharge.ts';
import { countryName, ownPlace, surchargeCountries } from './surcharge-rules-view.ts';
import { renderStaff } from './view.ts';

type Form = Record<string, string | string[] | undefined>;
type Err = { field: string | null; message: string };
interface Values {
  country: string;
  region: string;
  exempt: boolean;
  exempt_reason: string;
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function page(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, deps: HttpDeps, extra: { values?: Values; errors?: Err[] } = {}) {
  const caller = callerOf(req);
  if (!UUID.test(req.params.id)) return notFound(req, reply);
  const data = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => ({
    c: await readClientSurcharge(tx, req.params.id),
    program: await readSurchargeSettings(tx),
  }));
  if (!data.c) return notFound(req, reply);
  const { c, program } = data;
  const place = c.country
    ? ownPlace({ ...program, msp_country: c.country, msp_region: c.region }, today(new Date())).text.replace('while your business is there', 'for this client')
    : 'No location is recorded, so this client is never surcharged.';
  return renderStaff(
    req,
    reply,
    'client-surcharge',
    {
      title: `Surcharge for ${c.name}`,
      c,
      where: c.country ? `${c.region ? `${c.region}, ` : ''}${countryName(c.country)}` : null,
      place,
      programOn: program.enabled,
      v: extra.values ?? { country: c.country ?? '', region: c.region ?? '', exempt: c.exempt, exempt_reason: c.exempt_reason ?? '' },
      errors: extra.errors ?? [],
      countries: surchargeCountries(),
    },
    { status: extra.errors?.length ? 422 : 200 },
  );
}

export function registerClientSurchargeRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Params: { id: string } }>('/app/clients/:id/surcharge', { schema: { hide: true } }, (req, reply) => page(req, reply, deps));

  app.post<{ Params: { id: string } }>('/app/clients/:id/surcharge', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const f = (req.body ?? {}) as Form;
    const values: Values = {
      country: one(f.country).toUpperCase(),
      region: one(f.region).toUpperCase(),
      exempt: one(f.exempt) === 'on',
      exempt_reason: one(f.exempt_reason),
    };
    const errors: Err[] = [];
    if (values.country && !surchargeCountries().some((c) => c.code === values.country))
      errors.push({ field: 'country', message: 'Choose the client’s country from the list, or “None”' });
    if (values.region && !/^[A-Z0-9]{1,3}$/.test(values.region))
      errors.push({ field: 'region', message: 'Enter the state or province as its code of 1 to 3 letters, for example CT or QC, or leave it empty' });
    if (values.region && !values.country) errors.push({ field: 'country', message: 'Choose the country the state or province is in' });
    if (values.exempt_reason && (values.exempt_reason.length < 3 || values.exempt_reason.length > 300))
      errors.push({ field: 'exempt_reason', message: 'Give the reason for the exemption in 3 to 300 characters' });
    if (errors.length) return page(req, reply, deps, { values, errors });
    const change = clientSurchargePatch.parse({
      country: values.country || null,
      region: values.region || null,
      exempt: values.exempt,
      ...(values.exempt && values.exempt_reason ? { exempt_reason: values.exempt_reason } : {}),
    });
    try {
      await withTenant(deps.ctx.db, caller.tenantId, (tx) => saveClientSurcharge(tx, caller.tenantId, req.params.id, change, caller.actor));
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      if (e.code === 'not_found') return notFound(req, reply);
      const message = e.message.startsWith('give exempt_reason') ? 'Give the reason for exempting this client; it is kept in the audit log' : e.message;
      return page(req, reply, deps, { values, errors: [{ field: e.message.startsWith('give exempt_reason') ? 'exempt_reason' : null, message }] });
    }
    return reply.redirect(`/app/clients/${req.params.id}?saved=surcharge`, 303);
  });
}
