// Column helpers shared by the table types.
import type { ColumnType } from 'kysely';

export type Created = ColumnType<Date, Date | string | undefined, never>;
export type Updated = ColumnType<Date, Date | string | undefined, Date | string>;
/** SQL date, kept as YYYY-MM-DD text so that no time zone can shift it. */
export type DateText = ColumnType<string, string, string>;
