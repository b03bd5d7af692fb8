// Settings → Audit log (/app/settings/audit): who did what, when, to which record — every money movement and
// setting change Settle wrote to the append-only audit_log (engine/audit.ts). Filters (period in the
// workspace's timezone, actor, action, record, text in the detail) as removable chips, newest first, keyset
// pages (db/queries/audit-log.ts, migration 0032), each row in plain words with the record linked to its page
// and the detail — a settings change as before → after — behind <details>. The CSV is the same filtered set,
// streamed.
//   GET /app/settings/audit       the page  (finance and owner; http/permissions.ts says why)
//   GET /app/settings/audit.csv   export    (same)
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { withTenant, type Tx } from '../../db/tenant.ts';
import {
  ACTOR_KINDS,
  actorNames,
  distinctInLog,
  eachAuditRow,
  invoiceIdByNumber,
  listAuditPage,
  subjectNames,
  type AuditFilter,
  type AuditRow,
} from '../../db/queries/audit-log.ts';
import type { HttpDeps } from '../deps.ts';
import { ACTOR_KIND_WORDS, actorFilter, auditChips, auditHref, encodeCursor, parseAuditQuery } from './audit-filters.ts';
import { actionWords, actorWords, detailChanges, detailText, subjectHref, subjectWords } from './audit-words.ts';
import { csvText } from './invoices-csv.ts';
import type { FieldError, Query } from './invoices-filters.ts';
import { callerOf, workspaceOf } from './invoices.ts';
import { renderStaff } from './view.ts';

const PAGE = 50;

/** "2026-03-14 09:05:07" in the workspace's timezone: seconds matter when reading who did what first. */
export function timeIn(d: Date, timeZone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(d)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

interface Resolved {
  readonly filter: AuditFilter;
  readonly errors: FieldError[];
}

/** The query's filter for the database; an invoice given by its number is looked up to its id. */
async function resolveFilter(tx: Tx, given: Record<string, string>, timezone: string): Promise<Resolved> {
  const errors: FieldError[] = [];
  let subjectId = given.subject;
  if (given.subject_type === 'invoice' && subjectId && !/^[0-9a-f-]{36}$/i.test(subjectId)) {
    const id = await invoiceIdByNumber(tx, subjectId);
    if (id) subjectId = id;
    else errors.push({ field: 'subject', message: `No invoice is numbered ${subjectId}; enter the invoice number as the PSA shows it, or its id` });
  }
  const filter: AuditFilter = {
    timezone,
    ...(given.from ? { fromDate: given.from } : {}),
    ...(given.to ? { toDate: given.to } : {}),
    ...actorFilter(given),
    ...(given.action ? { action: given.action } : {}),
    ...(given.subject_type ? { subjectType: given.subject_type } : {}),
    ...(subjectId ? { subjectId } : {}),
    ...(given.q ? { text: given.q } : {}),
  };
  return { filter, errors };
}

export function registerAuditLogRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  app.get<{ Querystring: Query }>('/app/settings/audit', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const ask = parseAuditQuery(req.query);
    const data = await withTenant(db, caller.tenantId, async (tx) => {
      const ws = await workspaceOf(tx, caller.tenantId);
      const { filter, errors } = await resolveFilter(tx, ask.given, ws.timezone);
      errors.unshift(...ask.errors);
      const page = errors.length
        ? { rows: [], next: null, prev: null }
        : await listAuditPage(tx, filter, { after: ask.after, before: ask.before, limit: PAGE });
      const people = await tx.selectFrom('users').select(['id', 'name', 'email']).orderBy('email').execute();
      const keys = await tx.selectFrom('api_keys').select(['id', 'name', 'revoked_at']).orderBy('name').execute();
      const actors = await actorNames(tx, [...page.rows.map((r) => r.actor), ...(ask.given.actor ? [ask.given.actor] : [])]);
      return {
        ws,
        page,
        errors,
        people,
        keys,
        actors,
        subjects: await subjectNames(tx, page.rows),
        actions: await distinctInLog(tx, 'action'),
        subjectTypes: await distinctInLog(tx, 'subject_type'),
      };
    });
    const { page, ws, actors, subjects } = data;
    const keep = { ...ask.given };
    const given = ask.given;
    return renderStaff(
      req,
      reply,
      'settings-audit',
      {
        title: 'Audit log',
        errors: data.errors,
        given,
        chips: auditChips(given, given.actor ? (actors.get(given.actor) ?? null) : null),
        actorKinds: ACTOR_KINDS.map((k) => ({ value: k, label: ACTOR_KIND_WORDS[k] })),
        people: data.people.map((p) => ({ value: `user:${p.id}`, label: p.name && p.name !== p.email ? `${p.name} (${p.email})` : p.email })),
        keys: data.keys.map((k) => ({ value: `api_key:${k.id}`, label: `${k.name}${k.revoked_at ? ' (revoked)' : ''}` })),
        // Every action present, in plain words, plus the one asked for if the log has none of it (yet).
        actions: [...new Set([...data.actions, ...(given.action ? [given.action] : [])])]
          .map((a) => ({ value: a, label: actionWords(a) }))
          .sort((a, b) => a.label.localeCompare(b.label)),
        subjectTypes: [...new Set([...data.subjectTypes, 'payment', 'invoice', 'client', ...(given.subject_type ? [given.subject_type] : [])])]
          .map((t) => ({ value: t, label: subjectWords(t) }))
          .sort((a, b) => a.label.localeCompare(b.label)),
        rows: page.rows.map((r) => ({
          id: r.id,
          time: timeIn(r.created_at, ws.timezone),
          iso: r.created_at.toISOString(),
          who: actorWords(r.actor, actors),
          actor: r.actor,
          action: r.action,
          what: actionWords(r.action),
          subjectLabel: (r.subject_id && subjects.get(`${r.subject_type}:${r.subject_id}`)) || subjectWords(r.subject_type),
          subjectId: r.subject_id,
          subjectHref: subjectHref(r.subject_type, r.subject_id),
          changes: detailChanges(r.detail),
          detail: detailText(r.detail),
        })),
        timezone: ws.timezone,
        nextHref: page.next ? auditHref({ ...keep, after: encodeCursor(page.next) }) : null,
        prevHref: page.prev ? auditHref({ ...keep, before: encodeCursor(page.prev) }) : null,
        firstHref: ask.after || ask.before ? auditHref(keep) : null,
        csvHref: auditHref(keep, '/app/settings/audit.csv'),
        paged: !!(ask.after || ask.before),
      },
      { status: data.errors.length ? 400 : 200 },
    );
  });

  app.get<{ Querystring: Query }>('/app/settings/audit.csv', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const ask = parseAuditQuery(req.query);
    const prepared = await withTenant(db, caller.tenantId, async (tx) => {
      const ws = await workspaceOf(tx, caller.tenantId);
      return { ws, ...(await resolveFilter(tx, ask.given, ws.timezone)) };
    });
    const errors = [...ask.errors, ...prepared.errors];
    if (errors.length)
      return reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send(`The export was not made: ${errors.map((e) => e.message).join('; ')}.\n`);
    const tz = prepared.ws.timezone;
    const inTx = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(db, caller.tenantId, fn);
    const rows = eachAuditRow(inTx, prepared.filter);
    return reply
      .type('text/csv; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="audit-log-${timeIn(new Date(), tz).slice(0, 10)}.csv"`)
      .send(auditCsv(rows, tz, (actors) => inTx((tx) => actorNames(tx, actors))));
  });
}

export const AUDIT_CSV_HEADER = ['Time', 'Timezone', 'Who', 'Actor', 'What', 'Action', 'Record', 'Record id', 'Detail'] as const;

/** The CSV as a stream; actors' names are looked up once per few hundred rows, as they come. */
function auditCsv(rows: AsyncIterable<AuditRow>, tz: string, names: (actors: string[]) => Promise<Map<string, string>>): Readable {
  async function* lines(): AsyncGenerator<string> {
    yield `${AUDIT_CSV_HEADER.join(',')}\r\n`;
    let batch: AuditRow[] = [];
    const flush = async (): Promise<string> => {
      const who = await names([...new Set(batch.map((r) => r.actor))]);
      const text = batch
        .map((r) =>
          [
            timeIn(r.created_at, tz),
            tz,
            csvText(actorWords(r.actor, who)),
            csvText(r.actor),
            csvText(actionWords(r.action)),
            csvText(r.action),
            csvText(subjectWords(r.subject_type)),
            csvText(r.subject_id),
            csvText(JSON.stringify(r.detail ?? {})),
          ].join(','),
        )
        .join('\r\n');
      batch = [];
      return `${text}\r\n`;
    };
    for await (const r of rows) {
      batch.push(r);
      if (batch.length >= 500) yield await flush();
    }
    if (batch.length) yield await flush();
  }
  return Readable.from(lines(), { objectMode: false });
}
