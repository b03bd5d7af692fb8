// Settings → Branding (/app/settings/branding): the MSP's logo, button colour, e-mail sender name and
// reply-to, with a preview of the portal's header, a button and the From line. Everyone signed in reads it;
// an owner changes it through engine/branding.ts (checked, audited settings.branding_changed). The form is
// multipart (the logo file), parsed only in this scope by @fastify/multipart with every field on req.body,
// so the CSRF check (csrf.ts, a preHandler) reads the hidden token as for any other form.
// The public brand files the portal links to are served from here too (http/portal/branding-assets.ts).
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { contrastWithWhite, LOGO_MAX_BYTES, ratioText } from '../../domain/branding-checks.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { brandUrls, DEFAULT_PRIMARY_COLOR, readBranding, saveBranding, type Branding, type BrandingInput } from '../../engine/branding.ts';
import { UseCaseError } from '../../engine/context.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { registerBrandAssetRoutes } from '../portal/branding-assets.ts';
import { renderStaff } from './view.ts';

const PAGE = '/app/settings/branding';
const TITLE = 'Branding';
type Err = { field: string | null; message: string };

const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route reached without a caller (authorize.ts runs first)');
  return req.caller;
};

/** What the upload became: the bytes up to the limit, or only the fact that it was larger. */
interface Upload {
  readonly bytes: Buffer;
  readonly tooLarge: boolean;
  readonly size: number;
  readonly cutOff: boolean;
}

/** Reads the logo part without keeping more than the limit in memory (the rest is drained and counted). */
async function readUpload(part: MultipartFile): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of part.file as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= LOGO_MAX_BYTES) chunks.push(chunk);
  }
  const cutOff = part.file.truncated;
  const tooLarge = size > LOGO_MAX_BYTES || cutOff;
  const upload: Upload = { bytes: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge, size, cutOff };
  (part as unknown as { value: Upload }).value = upload;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const isUpload = (v: unknown): v is Upload => typeof v === 'object' && v !== null && Buffer.isBuffer((v as Upload).bytes);

interface FormValues {
  primary_color: string;
  sender_name: string;
  reply_to: string;
}

const valuesOf = (b: Branding): FormValues => ({ primary_color: b.primaryColor ?? '', sender_name: b.senderName ?? '', reply_to: b.replyTo ?? '' });

async function page(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  opts: { values?: FormValues; errors?: Err[]; status?: number } = {},
): Promise<FastifyReply> {
  const caller = callerOf(req);
  const { branding, workspaceName } = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => ({
    branding: await readBranding(tx),
    workspaceName: (await tx.selectFrom('tenants').select('name').where('id', '=', caller.tenantId).executeTakeFirstOrThrow()).name,
  }));
  const v = opts.values ?? valuesOf(branding);
  // The preview shows what is saved; staff.js redraws it as the owner types (no script: the saved look).
  const previewColor = branding.primaryColor ?? DEFAULT_PRIMARY_COLOR;
  return renderStaff(
    req,
    reply,
    'settings-branding',
    {
      title: TITLE,
      b: branding,
      v,
      errors: opts.errors ?? [],
      saved: (req.query as Record<string, string | undefined>)['saved'] === '1',
      canEdit: roleAtLeast(caller.role, 'owner'),
      urls: brandUrls(caller.tenantId, branding),
      workspaceName,
      mailFrom: deps.ctx.mailFrom,
      previewColor,
      previewRatio: ratioText(contrastWithWhite(previewColor)),
      maxKb: LOGO_MAX_BYTES / 1024,
    },
    { status: opts.status ?? 200 },
  );
}

export function registerBrandingRoutes(app: FastifyInstance, deps: HttpDeps): void {
  registerBrandAssetRoutes(app, deps);
  // Its own scope: multipart parsing for this form only (every other form stays urlencoded).
  void app.register(async (scope) => {
    await scope.register(multipart, {
      attachFieldsToBody: 'keyValues',
      onFile: readUpload,
      throwFileSizeLimit: false,
      // Anything beyond 4 MB is not read at all (busboy cuts it off); up to there, the form says how big it was.
      limits: { fileSize: 4 * 1024 * 1024, files: 1, fields: 10, fieldSize: 4096, parts: 12 },
    });

    scope.get(PAGE, async (req, reply) => page(req, reply, deps));

    scope.post(PAGE, async (req, reply) => {
      const caller = callerOf(req);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const values: FormValues = { primary_color: text(body['primary_color']), sender_name: text(body['sender_name']), reply_to: text(body['reply_to']) };
      const logo = isUpload(body['logo']) ? body['logo'] : null;
      const input: BrandingInput = {
        primaryColor: values.primary_color,
        senderName: values.sender_name,
        replyTo: values.reply_to,
        logo,
        removeLogo: text(body['remove_logo']) === 'on',
      };
      try {
        await saveBranding(deps.ctx.db, caller.tenantId, input, caller.actor);
      } catch (e) {
        if (!(e instanceof UseCaseError)) throw e;
        const fields = (e.detail?.['fields'] ?? {}) as Record<string, string>;
        const errors = Object.entries(fields).map(([field, message]) => ({ field, message }));
        return page(req, reply, deps, { values, errors: errors.length ? errors : [{ field: null, message: e.message }], status: 422 });
      }
      return reply.redirect(`${PAGE}?saved=1`, 303);
    });
  });
}
