// When a workspace's nightly reconciliation is due (issue #11): at 02:30 in the workspace's own timezone
// (domain/timezone.ts), once per local date. Books are closed and the day's payouts are in by then wherever
// the MSP is; 02:30 UTC for everyone would be the middle of the afternoon in Sydney and the evening before in
// Chicago. The tick (cron every 15 minutes: every UTC offset in use is a multiple of 15 minutes) asks this for
// each workspace; a run missed (Settle down at 02:30) is made at the next tick of the same local day.
import { formatDateTime } from './timezone.ts';

export const NIGHTLY_LOCAL_TIME = '02:30';

/** The workspace's local date to run the nightly report for now, or null when it is not due. */
export function nightlyDueDate(now: Date, timeZone: string, lastNightlyLocalDate: string | null): string | null {
  const local = formatDateTime(now, timeZone); // "YYYY-MM-DD HH:MM"
  const date = local.slice(0, 10);
  const time = local.slice(11, 16);
  if (time < NIGHTLY_LOCAL_TIME) return null;
  if (lastNightlyLocalDate !== null && lastNightlyLocalDate >= date) return null;
  return date;
}
