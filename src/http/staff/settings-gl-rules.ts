// Settings → Class and location by contract (/app/settings/gl-rules): the GL mapping's rules by PSA field
// (engine/gl-mapping.ts). For each contract kind an invoice's lines can be billed under, the class / location
// (whatever tracking dimensions the connected ledger has turned on, read live through its connector's
// readChart) Settle puts on that invoice's payment and refund entries, over the workspace-wide choice on
// Settings → Accounts. Everyone signed in reads the rules; owner and finance change them (http/permissions.ts),
// checked against the ledger's live lists and audited (connection.tracking_rules_changed).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { COVERABLE_KINDS, CONTRACT_KIND_LABELS } from '../../domain/contracts.ts';
import type { LedgerChart } from '../../connectors/accounting/types.ts';
import { UseCaseError } from '../../engine/context.ts';
import { advice } from '../../engine/connection-checks.ts';
import { ledgerChart, mappableDimensions, readTrackingRules, ruleField, saveTrackingRules } from '../../engine/gl-mapping.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './settings-surcharge.ts';
import { renderStaff } from './view.ts';

const PAGE = '/app/settings/gl-rules';
const TITLE = 'Class and location by contract';
const fieldId = (kind: string, dimension: string): string => `rule-${kind}-${dimension}`;

async function page(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  extra: { posted?: Readonly<Record<string, string>>; fieldErrors?: Readonly<Record<string, string>>; error?: string } = {},
) {
  const caller = callerOf(req);
  const books = await deps.ctx.connectors.accounting(caller.tenantId).catch(() => null);
  let chart: LedgerChart | null = null;
  let chartProblem: string | null = null;
  try {
    chart = await ledgerChart(deps.ctx.connectors, caller.tenantId);
  } catch (e) {
    chartProblem = `Settle could not read the classes and locations from the books: ${advice(e, books?.vendor ?? 'the books')}`;
  }
  const rules = await withTenant(deps.ctx.db, caller.tenantId, (tx) => readTrackingRules(tx));
  const dims = mappableDimensions(chart);
  const rows = COVERABLE_KINDS.map((kind) => ({
    kind,
    label: CONTRACT_KIND_LABELS[kind],
    pickers: dims.map((d) => {
      const saved = rules.find((r) => r.psaValue === kind && r.dimension === d.key);
      const current = extra.posted ? (extra.posted[ruleField(kind, d.key)] ?? '') : (saved?.optionId ?? '');
      const option = d.options.find((o) => o.id === current);
      return {
        id: fieldId(kind, d.key),
        name: ruleField(kind, d.key),
        label: `${d.label} for ${CONTRACT_KIND_LABELS[kind]}`,
        dimension: d.label,
        current,
        currentName: option?.name ?? saved?.optionName ?? (current || null),
        active: current === '' || !!option,
        choices: d.options,
      };
    }),
  }));
  const errors = [
    ...Object.entries(extra.fieldErrors ?? {}).map(([k, message]) => {
      const [, kind, dim] = k.split('.');
      return { field: fieldId(kind ?? '', dim ?? ''), message };
    }),
    ...(extra.error ? [{ field: null, message: extra.error }] : []),
  ];
  const q = req.query as Record<string, string | undefined>;
  return renderStaff(
    req,
    reply,
    'settings-gl-rules',
    {
      title: TITLE,
      connected: !!books,
      vendor: books?.vendor ?? null,
      readsChart: !!books?.readChart,
      chartProblem,
      dimensions: dims.map((d) => d.label),
      rows,
      canEdit: roleAtLeast(caller.role, 'finance'),
      errors,
      saved: q['saved'] === '1',
    },
    { status: errors.length ? 422 : 200 },
  );
}

export function registerGlRulesRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get(PAGE, async (req, reply) => page(req, reply, deps));

  app.post(PAGE, async (req, reply) => {
    const caller = callerOf(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const chosen: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (k.startsWith('rule.') && typeof v === 'string') chosen[k] = v.trim();
    try {
      await saveTrackingRules({ db: deps.ctx.db, connectors: deps.ctx.connectors }, caller.tenantId, chosen, caller.actor);
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      const fields = (e.detail?.['fields'] ?? {}) as Record<string, string>;
      return page(req, reply, deps, { posted: chosen, fieldErrors: fields, ...(Object.keys(fields).length ? {} : { error: e.message }) });
    }
    return reply.redirect(`${PAGE}?saved=1`, 303);
  });
}
