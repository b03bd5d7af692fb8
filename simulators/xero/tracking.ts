// Tracking categories (specs/xero/xero_accounting.yaml › paths › /TrackingCategories › get; components ›
// schemas › TrackingCategory, TrackingOption, LineItemTracking). An organisation has at most two active
// categories, each with its options; a line item may carry one option of each, named by TrackingCategoryID /
// TrackingOptionID or by Name / Option. Xero refuses an unknown or archived category or option, and two options
// of one category, on a line. Seeded as a new MSP might have them: "Region" and "Service line".
import { randomUUID } from 'node:crypto';
import { unknownFields } from './errors.ts';
import type { Rec } from './store.ts';

export interface XeroTrackingOption {
  readonly TrackingOptionID: string;
  readonly Name: string;
  Status: 'ACTIVE' | 'ARCHIVED';
}

export interface XeroTrackingCategory {
  readonly TrackingCategoryID: string;
  readonly Name: string;
  Status: 'ACTIVE' | 'ARCHIVED';
  readonly Options: XeroTrackingOption[];
}

export function seedTrackingCategories(): XeroTrackingCategory[] {
  const cat = (Name: string, options: string[]): XeroTrackingCategory => ({
    TrackingCategoryID: randomUUID(),
    Name,
    Status: 'ACTIVE',
    Options: options.map((o) => ({ TrackingOptionID: randomUUID(), Name: o, Status: 'ACTIVE' })),
  });
  return [cat('Region', ['North', 'South']), cat('Service line', ['Managed services', 'Projects'])];
}

export function trackingCategoryJson(c: XeroTrackingCategory, includeArchived: boolean): Rec {
  return {
    TrackingCategoryID: c.TrackingCategoryID,
    Name: c.Name,
    Status: c.Status,
    Options: c.Options.filter((o) => includeArchived || o.Status === 'ACTIVE').map((o) => ({ ...o, TrackingCategoryID: c.TrackingCategoryID })),
  };
}

/** The messages for a line item's Tracking (empty when Xero would take it), and the options it names. */
export function checkLineTracking(
  categories: readonly XeroTrackingCategory[],
  raw: unknown,
): { messages: string[]; tracking: { Name: string; Option: string }[] } {
  if (raw === undefined) return { messages: [], tracking: [] };
  if (!Array.isArray(raw)) return { messages: ['Tracking must be a list of tracking options'], tracking: [] };
  const messages: string[] = [];
  const tracking: { Name: string; Option: string }[] = [];
  const seen = new Set<string>();
  for (const t of raw as Rec[]) {
    if (!t || typeof t !== 'object') {
      messages.push('Tracking must be a list of tracking options');
      continue;
    }
    messages.push(
      ...unknownFields(t, ['TrackingCategoryID', 'TrackingOptionID', 'Name', 'Option']).map((f) => `The property '${f}' is not a valid property of Tracking.`),
    );
    const cat = categories.find((c) => c.TrackingCategoryID === t['TrackingCategoryID'] || (t['TrackingCategoryID'] === undefined && c.Name === t['Name']));
    if (!cat || cat.Status !== 'ACTIVE') {
      messages.push(`The tracking category ${String(t['Name'] ?? t['TrackingCategoryID'])} does not exist or has been archived`);
      continue;
    }
    const opt = cat.Options.find((o) => o.TrackingOptionID === t['TrackingOptionID'] || (t['TrackingOptionID'] === undefined && o.Name === t['Option']));
    if (!opt || opt.Status !== 'ACTIVE') {
      messages.push(`The tracking option ${String(t['Option'] ?? t['TrackingOptionID'])} does not exist or has been archived in ${cat.Name}`);
      continue;
    }
    if (seen.has(cat.TrackingCategoryID)) messages.push(`Only one option of the tracking category ${cat.Name} can be used on a line`);
    seen.add(cat.TrackingCategoryID);
    tracking.push({ Name: cat.Name, Option: opt.Name });
  }
  return { messages, tracking };
}
