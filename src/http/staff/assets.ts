// Static files for the staff app under /assets: htmx, Chart.js (its UMD build) and the app's own CSS and
// script. Read once when the server starts; each URL carries a content hash (?v=…), so a file is cached
// for a year and a changed file gets a new URL. Served as files from Settle's own origin, which the staff
// CSP (script-src 'self') allows; no inline script or handler is needed anywhere.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

interface Asset {
  readonly file: string;
  readonly type: string;
}

/** The public name of each file and where it comes from. */
const SOURCES: Record<string, Asset> = {
  'htmx.min.js': { file: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  // chart.js exports no subpath for its UMD build: found beside its main file (dist/).
  'chart.umd.min.js': { file: path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
  'staff.css': { file: path.join(here, 'assets', 'staff.css'), type: 'text/css; charset=utf-8' },
  'staff.js': { file: path.join(here, 'assets', 'staff.js'), type: 'text/javascript; charset=utf-8' },
  // The client portal's look and scripts (src/http/portal/assets; the portal's CSP allows 'self' too).
  'portal.css': { file: path.join(here, '..', 'portal', 'assets', 'portal.css'), type: 'text/css; charset=utf-8' },
  'portal-pay.js': { file: path.join(here, '..', 'portal', 'assets', 'portal-pay.js'), type: 'text/javascript; charset=utf-8' },
  'portal-update-method.js': { file: path.join(here, '..', 'portal', 'assets', 'portal-update-method.js'), type: 'text/javascript; charset=utf-8' },
  'portal-bank-account.js': { file: path.join(here, '..', 'portal', 'assets', 'portal-bank-account.js'), type: 'text/javascript; charset=utf-8' },
  'portal-installments.js': { file: path.join(here, '..', 'portal', 'assets', 'portal-installments.js'), type: 'text/javascript; charset=utf-8' },
  'portal-account.js': { file: path.join(here, '..', 'portal', 'assets', 'portal-account.js'), type: 'text/javascript; charset=utf-8' },
};

interface Loaded extends Asset {
  readonly body: Buffer;
  readonly version: string;
}

let loaded: Map<string, Loaded> | null = null;

function load(): Map<string, Loaded> {
  if (loaded) return loaded;
  loaded = new Map(
    Object.entries(SOURCES).map(([name, a]) => {
      const body = fs.readFileSync(a.file);
      return [name, { ...a, body, version: crypto.createHash('sha256').update(body).digest('hex').slice(0, 12) }];
    }),
  );
  return loaded;
}

export type AssetName = keyof typeof SOURCES;

/** The URL of an asset with its content hash, for templates: `/assets/staff.css?v=3f2a…`. */
export function assetUrl(name: AssetName): string {
  const a = load().get(name);
  if (!a) throw new Error(`no staff asset named ${name}`);
  return `/assets/${name}?v=${a.version}`;
}

/** Every asset URL a page may need, as templates see them (it.assets.css …). */
export function assetUrls(): { css: string; js: string; htmx: string; chart: string } {
  return { css: assetUrl('staff.css'), js: assetUrl('staff.js'), htmx: assetUrl('htmx.min.js'), chart: assetUrl('chart.umd.min.js') };
}

export function registerAssetRoutes(app: FastifyInstance): void {
  const files = load();
  app.get<{ Params: { file: string }; Querystring: { v?: string } }>('/assets/:file', { schema: { hide: true } }, async (req, reply) => {
    const a = files.get(req.params.file);
    if (!a) return reply.code(404).type('text/plain').send(`no file /assets/${req.params.file}`);
    // The hashed URL never changes content; any other (an old hash, none) is revalidated every time.
    const immutable = req.query.v === a.version;
    return reply
      .type(a.type)
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('etag', `"${a.version}"`)
      .send(a.body);
  });
}
