// Workspace branding (issue #9): the MSP's logo, primary colour, sender display name and reply-to address,
// shown to its clients on the portal and in e-mails instead of Settle's look (UI.md: "never Settle's").
// Saved by an owner on /app/settings/branding (http/staff/settings-branding.ts), checked by
// domain/branding-checks.ts, stored in workspace_branding (migration 0026), audited as
// settings.branding_changed with before → after (the logo by its SHA-256 and size, never its bytes).
//
// CONTRACT for the portal's layout (whoever renders the portal pages):
//   const branding = await portalBranding(tx, tenantId);   // inside the page's withTenant transaction
//   render with `branding` (http/portal/view.ts PortalBranding: { name, logoUrl, cssUrl }):
//   - cssUrl: a <link rel="stylesheet"> AFTER the portal's own stylesheet; it only sets the custom property
//     `--brand` (the buttons' and links' colour) on :root, so the layout needs no inline style (CSP).
//   - logoUrl: an <img> in the header (its URL changes with the logo, so browsers may cache it for a year).
//   - name: always null for now (the header keeps the workspace's name); reserved for a display name.
//   Both URLs are public (no portal token): /brand/<tenant id>/brand.css?v=… and …/logo?v=<sha256>,
//   served by http/portal/branding-assets.ts with nosniff and a cache keyed by the hash.
// CONTRACT for e-mails: engine/send-email.ts reads emailBranding(tx) when it sends — From: "<sender name or
// workspace name>" <SETTLE_MAIL_FROM> and, when set, Reply-To: <reply-to> — so every e-mail kind gets both.
import crypto from 'node:crypto';
import type { Db } from '../db/pool.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import { buttonContrastProblem, LOGO_MAX_BYTES, normaliseHex, replyToProblem, senderNameProblem, sniffLogo, type LogoType } from '../domain/branding-checks.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';

/** Settle's own button colour, used until a workspace picks one (the portal's stylesheet default). */
export const DEFAULT_PRIMARY_COLOR = '#2f5bea';

export interface Branding {
  readonly primaryColor: string | null;
  readonly senderName: string | null;
  readonly replyTo: string | null;
  readonly logo: { readonly type: LogoType; readonly sha256: string; readonly bytes: number } | null;
  readonly updatedAt: Date | null;
}

const NONE: Branding = { primaryColor: null, senderName: null, replyTo: null, logo: null, updatedAt: null };

/** The workspace's branding without the logo's bytes (Settle's defaults when never saved). */
export async function readBranding(tx: Tx): Promise<Branding> {
  const row = await tx
    .selectFrom('workspace_branding')
    .select((eb) => [
      'primary_color',
      'sender_name',
      'reply_to',
      'logo_type',
      'logo_sha256',
      eb.fn<number>('octet_length', ['logo']).as('logo_bytes'),
      'updated_at',
    ])
    .executeTakeFirst();
  if (!row) return NONE;
  return {
    primaryColor: row.primary_color,
    senderName: row.sender_name,
    replyTo: row.reply_to,
    logo: row.logo_type && row.logo_sha256 ? { type: row.logo_type, sha256: row.logo_sha256, bytes: Number(row.logo_bytes) } : null,
    updatedAt: row.updated_at,
  };
}

/** The public URLs of the workspace's brand files (cache keys: the colour and the logo's hash). */
export function brandUrls(tenantId: string, b: Pick<Branding, 'primaryColor' | 'logo'>): { cssUrl: string | null; logoUrl: string | null } {
  return {
    cssUrl: b.primaryColor ? `/brand/${tenantId}/brand.css?v=${b.primaryColor.slice(1)}` : null,
    logoUrl: b.logo ? `/brand/${tenantId}/logo?v=${b.logo.sha256}` : null,
  };
}

/** What the portal's layout needs (see the contract above). */
export async function portalBranding(tx: Tx, tenantId: string): Promise<{ name: string | null; logoUrl: string | null; cssUrl: string | null }> {
  return { name: null, ...brandUrls(tenantId, await readBranding(tx)) };
}

/** The stylesheet behind cssUrl: one custom property, from a colour the database only holds as #rrggbb. */
export function brandCss(primaryColor: string): string {
  return `/* This workspace's colours (Settings → Branding). */\n:root {\n  --brand: ${primaryColor};\n}\n`;
}

/** The logo's bytes for the public logo route, or null. */
export async function readLogo(tx: Tx): Promise<{ bytes: Buffer; type: LogoType; sha256: string } | null> {
  const row = await tx.selectFrom('workspace_branding').select(['logo', 'logo_type', 'logo_sha256']).executeTakeFirst();
  return row?.logo && row.logo_type && row.logo_sha256 ? { bytes: row.logo, type: row.logo_type, sha256: row.logo_sha256 } : null;
}

/** For engine/send-email.ts: the From display name (null: the workspace's name) and Reply-To (null: none). */
export async function emailBranding(tx: Tx): Promise<{ senderName: string | null; replyTo: string | null }> {
  const row = await tx.selectFrom('workspace_branding').select(['sender_name', 'reply_to']).executeTakeFirst();
  return { senderName: row?.sender_name ?? null, replyTo: row?.reply_to ?? null };
}

/** What the branding form sends; empty text means "Settle's default". */
export interface BrandingInput {
  readonly primaryColor: string;
  readonly senderName: string;
  readonly replyTo: string;
  /**
   * A newly uploaded logo (absent or empty: keep the current one). `tooLarge`: over the limit, its bytes not
   * kept; `size`: how many bytes came; `cutOff`: the upload was so large it was not read to its end.
   */
  readonly logo?: { readonly bytes: Buffer; readonly tooLarge?: boolean; readonly size?: number; readonly cutOff?: boolean } | null;
  readonly removeLogo?: boolean;
}

export type BrandingField = 'logo' | 'primary_color' | 'sender_name' | 'reply_to';

/** Each field's problem in plain words (empty when all is well). Exported for the page's live checks. */
export function brandingProblems(input: BrandingInput): { fields: Partial<Record<BrandingField, string>>; logoType: LogoType | null; color: string | null } {
  const fields: Partial<Record<BrandingField, string>> = {};
  let logoType: LogoType | null = null;
  const logo = input.logo;
  if (logo && (logo.bytes.length > 0 || logo.tooLarge)) {
    if (logo.tooLarge || logo.bytes.length > LOGO_MAX_BYTES) {
      const kb = Math.ceil((logo.size ?? logo.bytes.length) / 1024);
      fields.logo = `The logo is ${logo.cutOff ? 'more than ' : ''}${kb} KB; it can be at most 512 KB. Export it smaller (a logo of about 400 × 120 pixels is plenty) and upload it again.`;
    } else {
      const sniffed = sniffLogo(logo.bytes);
      if ('type' in sniffed) logoType = sniffed.type;
      else fields.logo = `The file is ${sniffed.refused}. Upload the logo as a PNG, JPEG or WebP image.`;
    }
  }
  let color: string | null = null;
  const colorText = input.primaryColor.trim();
  if (colorText !== '') {
    color = normaliseHex(colorText);
    if (!color)
      fields.primary_color = `"${colorText.slice(0, 40)}" is not a colour code: enter it as a hex code like #1d4ed8, or leave it empty for Settle's blue.`;
    else {
      const problem = buttonContrastProblem(color);
      if (problem) fields.primary_color = problem;
    }
  }
  const name = input.senderName.trim();
  if (name !== '') {
    const problem = senderNameProblem(name);
    if (problem) fields.sender_name = problem;
  }
  const replyTo = input.replyTo.trim();
  if (replyTo !== '') {
    const problem = replyToProblem(replyTo);
    if (problem) fields.reply_to = problem;
  }
  return { fields, logoType, color };
}

const logoFacts = (l: Branding['logo']) => (l ? { type: l.type, sha256: l.sha256, bytes: l.bytes } : null);

/**
 * Check and save the branding. Refused as a whole (UseCaseError 'invalid' with detail.fields, nothing
 * changed) when any field is wrong; else saved and audited before → after. Returns what is now saved.
 */
export async function saveBranding(db: Db, tenantId: string, input: BrandingInput, actor: Actor): Promise<Branding> {
  const { fields, logoType, color } = brandingProblems(input);
  if (Object.keys(fields).length > 0) throw new UseCaseError('invalid', Object.values(fields).join(' '), { fields });
  const name = input.senderName.trim() || null;
  const replyTo = input.replyTo.trim() || null;
  const newLogo =
    logoType && input.logo ? { bytes: input.logo.bytes, type: logoType, sha256: crypto.createHash('sha256').update(input.logo.bytes).digest('hex') } : null;
  return withTenant(db, tenantId, async (tx) => {
    // One save at a time per workspace: the before in the audit line is the row this save replaces.
    await tx.selectFrom('tenants').select('id').where('id', '=', tenantId).forUpdate().executeTakeFirstOrThrow();
    const before = await readBranding(tx);
    const logoColumns = newLogo
      ? { logo: newLogo.bytes, logo_type: newLogo.type, logo_sha256: newLogo.sha256 }
      : input.removeLogo
        ? { logo: null, logo_type: null, logo_sha256: null }
        : {};
    const values = { primary_color: color, sender_name: name, reply_to: replyTo, updated_by: actor, updated_at: new Date(), ...logoColumns };
    await tx
      .insertInto('workspace_branding')
      .values({ tenant_id: tenantId, ...values })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values))
      .execute();
    const after = await readBranding(tx);
    const facts = (b: Branding) => ({ primary_color: b.primaryColor, sender_name: b.senderName, reply_to: b.replyTo, logo: logoFacts(b.logo) });
    const was = facts(before);
    const now = facts(after);
    const changed = (Object.keys(now) as (keyof typeof now)[]).filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]));
    if (changed.length > 0) {
      await audit(tx, tenantId, actor, 'settings.branding_changed', { type: 'tenant', id: tenantId }, { changed, before: was, after: now });
    }
    return after;
  });
}
