// The small template language of client e-mails: plain text with `{{variable}}` placeholders, nothing else.
// Deliberately not Eta: a workspace's staff write these templates, and an Eta template is JavaScript run in
// Settle's process. Here a template can only place values Settle computed, from a fixed list per e-mail kind.
//
// One body gives both parts of the e-mail: the plain-text part is the body with the values put in; the HTML
// part (for kinds that have one) is the same body with every character of the template and of every value
// escaped, paragraphs (blank lines) as <p>, line breaks as <br>, a link value as <a href>, and a block value
// (a table of lines) as the HTML our code built for it. Staff cannot put markup into an e-mail, and neither
// can a client's name.

/** A value for one placeholder: text, a URL shown as a link, or a block with its own text and HTML forms. */
export type TemplateValue = string | { readonly link: string; readonly label: string } | { readonly text: string; readonly html: string };

export type TemplateValues = Readonly<Record<string, TemplateValue>>;

export type VariableKind = 'text' | 'link' | 'block';

export interface VariableSpec {
  readonly name: string;
  readonly kind: VariableKind;
  /** What it holds, for the person editing the template. */
  readonly about: string;
}

export interface TemplateProblem {
  readonly field: 'subject' | 'body';
  readonly message: string;
}

const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;
const NAME_AT = /^\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/;

/** The placeholders a template uses, in order, or the first malformed `{{…` found. */
export function placeholders(template: string): { names: string[]; malformed: string | null } {
  const names: string[] = [];
  for (let i = template.indexOf('{{'); i !== -1; i = template.indexOf('{{', i + 2)) {
    const m = NAME_AT.exec(template.slice(i));
    if (!m) {
      const shown = template.slice(i, Math.min(template.length, i + 30)).split('\n')[0]!;
      return { names, malformed: shown };
    }
    names.push(m[1]!);
    i += m[0].length - 2;
  }
  if (/\}\}/.test(template.replace(PLACEHOLDER, ''))) return { names, malformed: '}}' };
  return { names, malformed: null };
}

const list = (vars: readonly VariableSpec[]): string => vars.map((v) => `{{${v.name}}}`).join(', ');

/**
 * What is wrong with a subject and body for a kind with these variables, in words a person can act on:
 * a malformed or unknown placeholder (naming it and listing the allowed ones), a block in the subject or
 * not on its own line, a required variable missing, an empty or overlong field.
 */
export function checkTemplate(subject: string, body: string, vars: readonly VariableSpec[], required: readonly string[]): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const known = new Map(vars.map((v) => [v.name, v] as const));
  const used = new Set<string>();
  for (const [field, text, max] of [
    ['subject', subject, 300],
    ['body', body, 20_000],
  ] as const) {
    if (!text.trim()) {
      problems.push({ field, message: `Enter the ${field} of the e-mail` });
      continue;
    }
    if (text.length > max) problems.push({ field, message: `The ${field} is ${text.length} characters long; it can be at most ${max}` });
    if (field === 'subject' && /[\r\n]/.test(text)) problems.push({ field, message: 'The subject must be one line' });
    const { names, malformed } = placeholders(text);
    if (malformed !== null)
      problems.push({
        field,
        message: `“${malformed}” in the ${field} is not a variable. Write a variable as {{name}} with one of: ${list(vars)}`,
      });
    for (const n of new Set(names)) {
      const spec = known.get(n);
      if (!spec) {
        problems.push({ field, message: `Unknown variable {{${n}}} in the ${field}. The variables for this e-mail are: ${list(vars)}` });
        continue;
      }
      used.add(n);
      if (spec.kind === 'block' && field === 'subject') problems.push({ field, message: `{{${n}}} is a list of lines; it can only be used in the body` });
      if (spec.kind === 'block' && field === 'body' && !text.split('\n').some((l) => l.trim() === `{{${n}}}`))
        problems.push({ field, message: `{{${n}}} is a list of lines; put it on a line of its own` });
    }
  }
  for (const r of required)
    if (!used.has(r) && subject.trim() && body.trim())
      problems.push({ field: 'body', message: `The e-mail needs {{${r}}}: ${known.get(r)?.about ?? r}. Put it back into the subject or the body` });
  return problems;
}

const textOf = (v: TemplateValue | undefined): string => (v === undefined ? '' : typeof v === 'string' ? v : 'link' in v ? v.link : v.text);

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const htmlOf = (v: TemplateValue | undefined): string =>
  v === undefined ? '' : typeof v === 'string' ? escapeHtml(v) : 'link' in v ? `<a href="${escapeHtml(v.link)}">${escapeHtml(v.label)}</a>` : v.html;

const fill = (line: string, values: TemplateValues, as: (v: TemplateValue | undefined) => string, esc: (s: string) => string): string => {
  let out = '';
  let last = 0;
  for (const m of line.matchAll(PLACEHOLDER)) {
    out += esc(line.slice(last, m.index)) + as(values[m[1]!]);
    last = m.index + m[0].length;
  }
  return out + esc(line.slice(last));
};

/** A line made only of placeholders whose values are all empty (an optional sentence not needed this time). */
const vanishes = (line: string, values: TemplateValues): boolean =>
  line.trim() !== '' && line.replace(PLACEHOLDER, '').trim() === '' && [...line.matchAll(PLACEHOLDER)].every((m) => textOf(values[m[1]!]) === '');

/** The body's lines with the vanishing ones taken out, and no run of blank lines longer than one. */
function keptLines(body: string, values: TemplateValues): string[] {
  const lines = body
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((l) => !vanishes(l, values));
  return lines.filter((l, i) => l.trim() !== '' || (i > 0 && lines[i - 1]!.trim() !== '')).map((l) => l.replace(/\s+$/, ''));
}

export function renderSubject(subject: string, values: TemplateValues): string {
  return fill(subject, values, textOf, (s) => s)
    .replace(/\s+/g, ' ')
    .trim();
}

export function renderText(body: string, values: TemplateValues): string {
  return keptLines(body, values)
    .map((l) => fill(l, values, textOf, (s) => s))
    .join('\n')
    .trim();
}

export function renderHtml(body: string, values: TemplateValues): string {
  const out: string[] = [];
  let para: string[] = [];
  const flush = (): void => {
    if (para.length) out.push(`<p>${para.join('<br>\n')}</p>`);
    para = [];
  };
  for (const line of keptLines(body, values)) {
    const alone = /^\s*\{\{\s*([a-z][a-z0-9_]*)\s*\}\}\s*$/.exec(line);
    const v = alone ? values[alone[1]!] : undefined;
    if (line.trim() === '') flush();
    else if (v !== undefined && typeof v === 'object' && 'html' in v) {
      flush();
      out.push(v.html);
    } else para.push(fill(line, values, htmlOf, escapeHtml));
  }
  flush();
  return out.join('\n');
}
