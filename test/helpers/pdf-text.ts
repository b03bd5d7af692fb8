// The text a PDF shows, for tests: every content stream (inflated when Flate-encoded) read for its text
// operators — Tj with a literal "(…)" or hex "<…>" string, and TJ arrays — in drawing order. Enough for PDFs
// drawn with the standard fonts (pdf-lib writes their text as hex WinAnsi strings); not a general extractor.
import zlib from 'node:zlib';

function literal(s: string): string {
  return s.replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, (_m, c: string) => {
    if (/^[0-7]+$/.test(c)) return String.fromCharCode(parseInt(c, 8));
    return ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' } as Record<string, string>)[c] ?? c;
  });
}

const hex = (h: string): string => Buffer.from(h.replace(/\s+/g, '').padEnd(Math.ceil(h.replace(/\s+/g, '').length / 2) * 2, '0'), 'hex').toString('latin1');

function streams(pdf: Buffer): string[] {
  const out: string[] = [];
  const text = pdf.toString('latin1');
  const re = /stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const start = m.index + m[0].length;
    const end = text.indexOf('endstream', start);
    if (end < 0) break;
    const bytes = pdf.subarray(start, end);
    try {
      out.push(zlib.inflateSync(bytes).toString('latin1'));
    } catch {
      out.push(bytes.toString('latin1'));
    }
    re.lastIndex = end;
  }
  return out;
}

/** Each piece of text the PDF draws, one entry per text operator. */
export function pdfTextRuns(pdf: Buffer): string[] {
  const runs: string[] = [];
  for (const s of streams(pdf)) {
    const ops = /(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)\s*Tj|\[((?:\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>|[-\d.\s])*)\]\s*TJ/g;
    let m: RegExpExecArray | null;
    while ((m = ops.exec(s))) {
      const str = m[1] ?? '';
      if (m[1] !== undefined) runs.push(str.startsWith('(') ? literal(str.slice(1, -1)) : hex(str.slice(1, -1)));
      else {
        const parts = m[2]!.match(/\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>/g) ?? [];
        runs.push(parts.map((p) => (p.startsWith('(') ? literal(p.slice(1, -1)) : hex(p.slice(1, -1)))).join(''));
      }
    }
  }
  return runs;
}

/** All of the PDF's text, runs joined by a space. */
export const pdfText = (pdf: Buffer): string => pdfTextRuns(pdf).join(' ');
