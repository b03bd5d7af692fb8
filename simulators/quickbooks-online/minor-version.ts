// `minorversion` on every Accounting API call. Intuit retired minor versions 1–74 on 2025-08-01: since
// then a request without one, or with one below 75, is answered as minor version 75, and "future updates
// that aren't backward compatible will be released under new minor versions" (Intuit developer blog,
// 2025-01-21, "Changes to our Accounting API that may impact your application"; the minor-versions page
// lists 75 as the latest). The entity model in shared/specs is that of minor version 75 and later.
//
// The simulator is stricter than Intuit in one way, on purpose: a minor version below 75 is REFUSED
// (Intuit silently serves 75). A client that still asks for 65 expects 65's shapes and would be surprised
// in production; a refusal in tests finds it. A missing minorversion is served as 75, as Intuit does. A
// version above the latest the simulator knows, or one that is not a whole number, is refused too (the
// simulator cannot promise shapes it does not know). The Fault code for this (4005) is the simulator's own.
import { faults } from './faults.ts';

export const MIN_MINOR_VERSION = 75;
export const LATEST_MINOR_VERSION = 75;

/** The minor version a request is answered with; throws the Fault for an unsupported one. */
export function minorVersionOf(raw: string | string[] | undefined): number {
  if (raw === undefined) return MIN_MINOR_VERSION;
  const given = Array.isArray(raw) ? raw.join(',') : raw;
  if (!/^\d{1,4}$/.test(given)) throw faults.minorVersion(given, MIN_MINOR_VERSION, LATEST_MINOR_VERSION);
  const n = Number(given);
  if (n < MIN_MINOR_VERSION || n > LATEST_MINOR_VERSION) throw faults.minorVersion(given, MIN_MINOR_VERSION, LATEST_MINOR_VERSION);
  return n;
}
