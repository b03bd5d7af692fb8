// Payment rules as effective-dated data plus the pure engines that read them (Settle issue #3).
export * from './calendar-date.ts';
export * from './rule-row.ts';
export * from './us-banking-calendar.ts';
export * from './surcharge-table.ts';
export * from './surcharge.ts';
export * from './decline-codes.ts';
export * from './retry-limits.ts';
export * from './retry-policy.ts';
export * from './ach-return-codes.ts';
export * from './ach-reinitiation.ts';
export * from './ach-return-window.ts';
export * from './noc-codes.ts';
export * from './dunning.ts';
