// A tiny typed HTML template: interpolated values are escaped unless wrapped with raw(). Pages are plain
// server-rendered HTML; no client framework is needed to pay an invoice or read the dashboard.
const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export class Raw {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export const raw = (s: string): Raw => new Raw(s);

/**
 * A value as a JavaScript literal inside an inline <script>: JSON with `<` (so no `</script>` or `<!--`),
 * `>`, `&` and the two JavaScript line separators escaped, whatever the value holds.
 */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function render(v: unknown): string {
  if (v instanceof Raw) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return String(v).replace(/[&<>"']/g, (c) => ESC[c]!);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Raw(out);
}

export function page(title: string, body: Raw, opts: { brand?: string; head?: Raw } = {}): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          :root {
            --ink: #1d2433;
            --muted: #5b6578;
            --line: #e3e7ef;
            --brand: #2f5bea;
            --ok: #127a4a;
            --warn: #a15c00;
            --bad: #b42318;
          }
          * {
            box-sizing: border-box;
          }
          body {
            font:
              15px/1.45 system-ui,
              -apple-system,
              Segoe UI,
              Roboto,
              sans-serif;
            color: var(--ink);
            margin: 0;
            background: #f6f7fb;
          }
          header {
            background: #fff;
            border-bottom: 1px solid var(--line);
            padding: 14px 24px;
            display: flex;
            gap: 16px;
            align-items: center;
          }
          header strong {
            font-size: 17px;
          }
          main {
            max-width: 1100px;
            margin: 24px auto;
            padding: 0 24px;
          }
          .card {
            background: #fff;
            border: 1px solid var(--line);
            border-radius: 10px;
            padding: 20px;
            margin-bottom: 18px;
          }
          table {
            width: 100%;
            border-collapse: collapse;
          }
          th,
          td {
            text-align: left;
            padding: 8px 10px;
            border-bottom: 1px solid var(--line);
            vertical-align: top;
          }
          th {
            font-size: 12px;
            text-transform: uppercase;
            letter-spacing: 0.04em;
            color: var(--muted);
          }
          td.num,
          th.num {
            text-align: right;
            font-variant-numeric: tabular-nums;
          }
          .pill {
            display: inline-block;
            padding: 1px 8px;
            border-radius: 999px;
            font-size: 12px;
            background: #eef1f7;
          }
          .pill.ok {
            background: #e3f5ec;
            color: var(--ok);
          }
          .pill.warn {
            background: #fff3e0;
            color: var(--warn);
          }
          .pill.bad {
            background: #fde8e7;
            color: var(--bad);
          }
          button,
          .button {
            background: var(--brand);
            color: #fff;
            border: 0;
            border-radius: 8px;
            padding: 10px 16px;
            font-size: 15px;
            cursor: pointer;
            text-decoration: none;
            display: inline-block;
          }
          button[disabled] {
            opacity: 0.6;
            cursor: default;
          }
          .muted {
            color: var(--muted);
          }
          .error {
            color: var(--bad);
          }
          input[type='text'],
          input[type='email'],
          input[type='password'] {
            padding: 9px 10px;
            border: 1px solid var(--line);
            border-radius: 8px;
            width: 100%;
            font-size: 15px;
          }
          label {
            display: block;
            margin: 10px 0 4px;
          }
          iframe {
            border: 1px solid var(--line);
            border-radius: 8px;
            width: 100%;
            height: 260px;
            background: #fff;
          }
        </style>
        ${opts.head ?? ''}
      </head>
      <body>
        <header><strong>${opts.brand ?? 'Settle'}</strong><span class="muted">${title}</span></header>
        <main>${body}</main>
      </body>
    </html>`.value;
}
