// Reads a received message (test/helpers/smtp.ts keeps it raw) into its MIME parts, so a test can check an
// attachment as the client's mail program would see it: multipart bodies split on their boundary (nested
// ones too), each part's headers unfolded and its body decoded (base64, quoted-printable, 7bit/8bit).

export interface MimePart {
  readonly headers: Readonly<Record<string, string>>;
  /** The content type without its parameters, lower case (e.g. 'application/pdf'). */
  readonly type: string;
  /** The attachment's file name (Content-Disposition's filename, else Content-Type's name), or null. */
  readonly filename: string | null;
  readonly body: Buffer;
}

function split(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const head = (at < 0 ? raw : raw.slice(0, at)).replace(/\r?\n[ \t]+/g, ' ');
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

const param = (value: string | undefined, name: string): string | null => {
  const m = new RegExp(`${name}="?([^";]+)"?`, 'i').exec(value ?? '');
  return m ? m[1]! : null;
};

function decode(body: string, encoding: string | undefined): Buffer {
  const e = (encoding ?? '7bit').toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (e === 'quoted-printable')
    return Buffer.from(
      body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    );
  return Buffer.from(body, 'utf8');
}

/** Every leaf part of the message, in order (a message that is not multipart is its own one part). */
export function mimeParts(raw: string): MimePart[] {
  const { headers, body } = split(raw);
  const ctype = headers['content-type'] ?? 'text/plain';
  const boundary = /^multipart\//i.test(ctype) ? param(ctype, 'boundary') : null;
  if (boundary) {
    const pieces = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`));
    return pieces.filter((p) => p.trim() !== '').flatMap((p) => mimeParts(p));
  }
  return [
    {
      headers,
      type: ctype.split(';')[0]!.trim().toLowerCase(),
      filename: param(headers['content-disposition'], 'filename') ?? param(ctype, 'name'),
      body: decode(body, headers['content-transfer-encoding']),
    },
  ];
}
