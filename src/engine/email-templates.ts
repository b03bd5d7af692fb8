// A workspace's e-mail templates (settings → E-mails): read each kind with its default and override, save an
// override after checking it against the kind's variables, reset to the default. Every change is audited as
// settings.email_template_changed with the text before and after. The senders read the override with
// notify/templates/compose.ts templateOf, in the transaction that queues the e-mail.
import type { Tx } from '../db/tenant.ts';
import { EMAIL_CATALOGUE, EMAIL_KINDS, type EmailKind, type EmailKindSpec } from '../notify/templates/catalogue.ts';
import { composeEmail, templateOf, type ComposedEmail, type EmailTemplate } from '../notify/templates/compose.ts';
import { checkTemplate, type TemplateProblem } from '../notify/templates/syntax.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';

export interface EmailTemplateState {
  readonly spec: EmailKindSpec;
  /** What the senders use now: the override, or the default. */
  readonly current: EmailTemplate;
  readonly customised: boolean;
  readonly updatedAt: Date | null;
  readonly updatedBy: string | null;
}

export async function listEmailTemplates(tx: Tx): Promise<EmailTemplateState[]> {
  const rows = await tx.selectFrom('email_templates').selectAll().execute();
  return EMAIL_KINDS.map((kind) => {
    const spec = EMAIL_CATALOGUE[kind];
    const row = rows.find((r) => r.kind === kind);
    return {
      spec,
      current: row ? { subject: row.subject, body: row.body } : { subject: spec.subject, body: spec.body },
      customised: !!row,
      updatedAt: row?.updated_at ?? null,
      updatedBy: row?.updated_by ?? null,
    };
  });
}

export async function emailTemplateState(tx: Tx, kind: EmailKind): Promise<EmailTemplateState> {
  return (await listEmailTemplates(tx)).find((s) => s.spec.kind === kind)!;
}

/** The problems of a draft (empty when it can be saved); the page shows them as an error summary. */
export const problemsOf = (kind: EmailKind, t: EmailTemplate): TemplateProblem[] =>
  checkTemplate(t.subject, t.body, EMAIL_CATALOGUE[kind].variables, EMAIL_CATALOGUE[kind].required);

/** The draft with the kind's sample values: what the preview shows. */
export const previewOf = (kind: EmailKind, t: EmailTemplate): ComposedEmail => composeEmail(kind, EMAIL_CATALOGUE[kind].sample, t);

const normalise = (t: EmailTemplate): EmailTemplate => ({ subject: t.subject.trim(), body: t.body.replace(/\r\n?/g, '\n').replace(/\s+$/, '') });

/**
 * Save a workspace's subject and body for a kind. Refused (UseCaseError 'invalid', nothing changed) with
 * every problem in `detail.problems` when the template does not fit the kind. Saving exactly the default
 * wording stores no override. Returns whether anything changed.
 */
export async function saveEmailTemplate(tx: Tx, tenantId: string, kind: EmailKind, draft: EmailTemplate, actor: Actor): Promise<boolean> {
  const t = normalise(draft);
  const problems = problemsOf(kind, t);
  if (problems.length) throw new UseCaseError('invalid', problems.map((p) => p.message).join('. '), { problems });
  const spec = EMAIL_CATALOGUE[kind];
  if (t.subject === spec.subject && t.body === spec.body) return resetEmailTemplate(tx, tenantId, kind, actor);
  const before = await templateOf(tx, kind);
  if (before && before.subject === t.subject && before.body === t.body) return false;
  await tx
    .insertInto('email_templates')
    .values({ tenant_id: tenantId, kind, subject: t.subject, body: t.body, updated_by: actor, updated_at: new Date() })
    .onConflict((oc) => oc.columns(['tenant_id', 'kind']).doUpdateSet({ subject: t.subject, body: t.body, updated_by: actor, updated_at: new Date() }))
    .execute();
  await audit(
    tx,
    tenantId,
    actor,
    'settings.email_template_changed',
    { type: 'email_template', id: kind },
    {
      kind,
      before: before ?? { subject: spec.subject, body: spec.body, default: true },
      after: { subject: t.subject, body: t.body },
    },
  );
  return true;
}

/** Back to the default wording: the override is deleted (and audited); nothing to do when there is none. */
export async function resetEmailTemplate(tx: Tx, tenantId: string, kind: EmailKind, actor: Actor): Promise<boolean> {
  const before = await tx.deleteFrom('email_templates').where('kind', '=', kind).returning(['subject', 'body']).executeTakeFirst();
  if (!before) return false;
  const spec = EMAIL_CATALOGUE[kind];
  await audit(
    tx,
    tenantId,
    actor,
    'settings.email_template_changed',
    { type: 'email_template', id: kind },
    {
      kind,
      before: { subject: before.subject, body: before.body },
      after: { subject: spec.subject, body: spec.body, default: true },
    },
  );
  return true;
}
