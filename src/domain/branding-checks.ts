// The checks a workspace's branding passes before it is saved (engine/branding.ts): pure functions, no I/O.
// - A logo is recognised by its first bytes (magic numbers), never by its file name or the browser's
//   Content-Type: both are the uploader's claim. PNG, JPEG and WebP only; SVG is refused because an SVG is
//   a document that can carry script, and the portal serves the logo from Settle's own origin.
// - The primary colour is the background of buttons with white text, so it must reach WCAG 2.x contrast
//   4.5:1 against white (the AA level for normal text); when it does not, a darker shade of the same hue
//   that does is proposed, so the error says which colour to pick instead.
// - The sender name goes into an e-mail's From header and the reply-to into Reply-To: nothing that could
//   break a header (line breaks, quotes, angle brackets) is accepted.
/** The logo types Settle keeps and serves (migration 0026 checks the same list). */
export type LogoType = 'image/png' | 'image/jpeg' | 'image/webp';

export const LOGO_MAX_BYTES = 512 * 1024;
export const MIN_BUTTON_CONTRAST = 4.5;

/** What the bytes are, by their signature: a logo type Settle serves, or a word for what was sent instead. */
export function sniffLogo(bytes: Uint8Array): { type: LogoType } | { refused: string } {
  const starts = (sig: readonly number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { type: 'image/png' };
  if (starts([0xff, 0xd8, 0xff])) return { type: 'image/jpeg' };
  // RIFF <size> WEBP
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return { type: 'image/webp' };
  if (starts([0x47, 0x49, 0x46, 0x38])) return { refused: 'a GIF image' };
  const head = Buffer.from(bytes.subarray(0, 512))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<') && head.includes('<svg'))) return { refused: 'an SVG image (SVG can carry script)' };
  if (head.startsWith('<')) return { refused: 'an XML or HTML document' };
  if (head.startsWith('%pdf')) return { refused: 'a PDF document' };
  return { refused: 'not a PNG, JPEG or WebP image' };
}

/** "#1D4ED8", "1d4ed8" or "#14c" → "#1d4ed8"; null when it is not a hex colour. */
export function normaliseHex(input: string): string | null {
  const v = input.trim().replace(/^#/, '').toLowerCase();
  if (/^[0-9a-f]{6}$/.test(v)) return `#${v}`;
  if (/^[0-9a-f]{3}$/.test(v)) return `#${[...v].map((c) => c + c).join('')}`;
  return null;
}

const channels = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

/** WCAG 2.x relative luminance of a "#rrggbb" colour. */
export function relativeLuminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The contrast ratio of white text on this background colour (1 to 21). */
export function contrastWithWhite(hex: string): number {
  return 1.05 / (relativeLuminance(hex) + 0.05);
}

/** "4.5:1", rounded down so that a shown 4.5 is never really 4.49. */
export const ratioText = (r: number): string => `${(Math.floor(r * 10) / 10).toFixed(1)}:1`;

/** The lightest darker shade of the same hue (each channel scaled down together) that reaches 4.5:1. */
export function darkerShadeFor(hex: string): string {
  const rgb = channels(hex);
  for (let f = 100; f >= 0; f--) {
    const shade = `#${rgb
      .map((c) =>
        Math.round((c * f) / 100)
          .toString(16)
          .padStart(2, '0'),
      )
      .join('')}`;
    if (contrastWithWhite(shade) >= MIN_BUTTON_CONTRAST) return shade;
  }
  return '#000000';
}

/** Why this colour cannot be the buttons' background, with the shade to pick instead; null when it is fine. */
export function buttonContrastProblem(hex: string): string | null {
  const ratio = contrastWithWhite(hex);
  if (ratio >= MIN_BUTTON_CONTRAST) return null;
  const instead = darkerShadeFor(hex);
  return (
    `${hex} is too light for buttons with white text: its contrast is ${ratioText(ratio)} and clients need at least 4.5:1 to read it. ` +
    `Pick a darker colour, such as ${instead} (the same hue, ${ratioText(contrastWithWhite(instead))}).`
  );
}

/** Why this sender display name cannot go into From:, or null. */
export function senderNameProblem(name: string): string | null {
  if (name.length > 100) return `The sender name is ${name.length} characters long; use at most 100.`;
  if (/[\u0000-\u001f\u007f"<>\\]/.test(name))
    return 'The sender name cannot contain line breaks, quotes ("), angle brackets (< >) or backslashes: they would break the From line of the e-mail.';
  return null;
}

/** An address a mail client can reply to: local@domain.tld, no spaces, no header characters. */
const EMAIL = /^[^\s@<>"(),;:\\[\]]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

/** Why this reply-to address cannot be used, or null. */
export function replyToProblem(address: string): string | null {
  if (address.length > 254 || !EMAIL.test(address))
    return `"${address.slice(0, 80)}" is not an e-mail address: enter one like billing@your-msp.com, or leave it empty.`;
  return null;
}
