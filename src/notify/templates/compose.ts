// Compose one client e-mail from its kind's template — the workspace's override when it has one, else the
// default — and the values the sender computed. Senders call templateOf in their transaction (RLS: only
// the workspace's own row is visible), then compose; composing is pure, so previews use it with samples.
import type { Tx } from '../../db/tenant.ts';
import { EMAIL_CATALOGUE, type EmailKind } from './catalogue.ts';
import { renderHtml, renderSubject, renderText, type TemplateValues } from './syntax.ts';

export interface EmailTemplate {
  readonly subject: string;
  readonly body: string;
}

export interface ComposedEmail {
  readonly subject: string;
  readonly text: string;
  /** Absent for kinds that are plain text only. */
  readonly html?: string;
}

/** The workspace's override of a kind, or null (the default applies). */
export async function templateOf(tx: Tx, kind: EmailKind): Promise<EmailTemplate | null> {
  const row = await tx.selectFrom('email_templates').select(['subject', 'body']).where('kind', '=', kind).executeTakeFirst();
  return row ?? null;
}

export function composeEmail(kind: EmailKind, values: TemplateValues, override: EmailTemplate | null = null): ComposedEmail {
  const spec = EMAIL_CATALOGUE[kind];
  const t = override ?? spec;
  const subject = renderSubject(t.subject, values);
  const text = renderText(t.body, values);
  return spec.html ? { subject, text, html: renderHtml(t.body, values) } : { subject, text };
}
