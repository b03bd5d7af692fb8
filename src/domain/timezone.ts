// The workspace's timezone for showing dates to people. Read from the workspace settings
// (tenants.settings.timezone, an IANA name such as "America/Chicago"), set on the staff page
// /app/settings/workspace (engine/workspace-timezone.ts); an unset or unknown name means UTC.
export const DEFAULT_TIMEZONE = 'UTC';

export function isTimezone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function workspaceTimezone(settings: Record<string, unknown> | null | undefined): string {
  const tz = settings?.timezone;
  return typeof tz === 'string' && tz !== '' && isTimezone(tz) ? tz : DEFAULT_TIMEZONE;
}

function parts(d: Date, timeZone: string): Record<string, string> {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return Object.fromEntries(f.formatToParts(d).map((p) => [p.type, p.value]));
}

/** "2026-03-14" in the timezone. A plain date string (a due date, no time) is shown as it is. */
export function formatDate(v: Date | string | null | undefined, timeZone: string): string {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return v;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  const p = parts(d, timeZone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** "2026-03-14 09:05" in the timezone. */
export function formatDateTime(v: Date | string | null | undefined, timeZone: string): string {
  if (v === null || v === undefined || v === '') return '';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  const p = parts(d, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}
