// Settings → E-mails: the wording of each e-mail Settle sends to clients (engine/email-templates.ts).
//   GET  /app/settings/emails                 every kind, "customised" or "default" (viewer)
//   GET  /app/settings/emails/:kind           the template, its variables and a preview with sample data (viewer)
//   POST /app/settings/emails/:kind           save (finance); a refused template comes back with the reasons
//   POST /app/settings/emails/:kind/preview   the preview of the draft: an htmx fragment, or the whole page
//                                             without JavaScript (finance)
//   POST /app/settings/emails/:kind/reset     back to the default wording (finance)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { UseCaseError } from '../../engine/context.ts';
import { emailTemplateState, listEmailTemplates, previewOf, problemsOf, resetEmailTemplate, saveEmailTemplate } from '../../engine/email-templates.ts';
import { isEmailKind, type EmailKind } from '../../notify/templates/catalogue.ts';
import type { EmailTemplate } from '../../notify/templates/compose.ts';
import type { TemplateProblem } from '../../notify/templates/syntax.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { notFound } from './payments.ts';
import { renderStaff } from './view.ts';

type Form = Record<string, string | undefined>;

const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route reached without a caller (authorize.ts runs first)');
  return req.caller;
};
const isHtmx = (req: FastifyRequest): boolean => req.headers['hx-request'] === 'true';
const draftOf = (b: Form): EmailTemplate => ({ subject: b.subject ?? '', body: b.body ?? '' });
const errorsOf = (problems: readonly TemplateProblem[]) => problems.map((p) => ({ field: `template-${p.field}`, message: p.message }));

const NOTICES: Record<string, string> = {
  saved: 'Saved. The next e-mails of this kind use this wording.',
  reset: 'Back to the default wording.',
  unchanged: 'Nothing changed.',
};

export function registerEmailTemplateRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  app.get('/app/settings/emails', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const kinds = await withTenant(db, caller.tenantId, (tx) => listEmailTemplates(tx));
    return renderStaff(req, reply, 'settings-emails', { title: 'E-mails to clients', kinds });
  });

  /** The edit page: the saved template, or the person's draft with its problems and preview. */
  async function page(
    req: FastifyRequest,
    reply: FastifyReply,
    kind: EmailKind,
    draft: EmailTemplate | null,
    problems: TemplateProblem[],
    notice: string | null,
  ) {
    const caller = callerOf(req);
    const state = await withTenant(db, caller.tenantId, (tx) => emailTemplateState(tx, kind));
    const shown = draft ?? state.current;
    return renderStaff(
      req,
      reply,
      'settings-email',
      {
        title: state.spec.title,
        state,
        draft: shown,
        canEdit: roleAtLeast(caller.role, 'finance'),
        errors: errorsOf(problems),
        preview: { kind, problems, email: problems.length ? null : previewOf(kind, shown) },
        notice,
      },
      { status: problems.length ? 422 : 200 },
    );
  }

  app.get<{ Params: { kind: string }; Querystring: Form }>('/app/settings/emails/:kind', { schema: { hide: true } }, async (req, reply) => {
    if (!isEmailKind(req.params.kind)) return notFound(req, reply);
    const done = req.query.done ?? '';
    return page(req, reply, req.params.kind, null, [], NOTICES[done] ?? null);
  });

  app.post<{ Params: { kind: string }; Body: Form }>('/app/settings/emails/:kind/preview', { schema: { hide: true } }, async (req, reply) => {
    const kind = req.params.kind;
    if (!isEmailKind(kind)) return notFound(req, reply);
    const draft = draftOf(req.body ?? {});
    const problems = problemsOf(kind, draft);
    if (!isHtmx(req)) return page(req, reply, kind, draft, problems, null);
    // The fragment answers 200 even with problems: htmx swaps only 2xx answers, and the problems are its content.
    return renderStaff(req, reply, 'partials/email-preview', { kind, problems, email: problems.length ? null : previewOf(kind, draft) });
  });

  app.post<{ Params: { kind: string }; Body: Form }>('/app/settings/emails/:kind', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const kind = req.params.kind;
    if (!isEmailKind(kind)) return notFound(req, reply);
    const draft = draftOf(req.body ?? {});
    try {
      const changed = await withTenant(db, caller.tenantId, (tx) => saveEmailTemplate(tx, caller.tenantId, kind, draft, caller.actor));
      return reply.redirect(`/app/settings/emails/${kind}?done=${changed ? 'saved' : 'unchanged'}`, 303);
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      const problems = (e.detail?.['problems'] as TemplateProblem[] | undefined) ?? [{ field: 'body', message: e.message }];
      return page(req, reply, kind, draft, problems, null);
    }
  });

  app.post<{ Params: { kind: string } }>('/app/settings/emails/:kind/reset', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const kind = req.params.kind;
    if (!isEmailKind(kind)) return notFound(req, reply);
    const changed = await withTenant(db, caller.tenantId, (tx) => resetEmailTemplate(tx, caller.tenantId, kind, caller.actor));
    return reply.redirect(`/app/settings/emails/${kind}?done=${changed ? 'reset' : 'unchanged'}`, 303);
  });
}
