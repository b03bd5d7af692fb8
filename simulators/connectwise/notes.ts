// Company notes: `/company/companies/{parentId}/notes` (GET list, GET count, GET one, POST). Shape from
// the generated 2022.1 `CompanyNote` (id, text (required), type (NoteTypeReference), flagged, enteredBy,
// company, _info) — see the ConnectWise entry in ../../../shared/specs/SOURCES.md; verify against
// All.json. Settle writes a flagged note when a client's payment fails, which is how a ConnectWise user
// sees it on the company (there is no payment-failure status on an invoice).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { cwTimestamp, type CompanyRef, type Info } from './model.ts';
import { ENTITIES } from './fields.ts';
import { cwError, companyOf, registerCompanyChildReads } from './company-children.ts';
import type { ConnectWiseState } from './store.ts';

export interface CwCompanyNote {
  id: number;
  text: string;
  type: { id: number; name: string };
  flagged: boolean;
  enteredBy: string;
  company: CompanyRef;
  _info: Info;
}

/** The note types a fresh ConnectWise site has (ids are site-specific; assumption). */
export const NOTE_TYPES: readonly { id: number; name: string }[] = [
  { id: 1, name: 'General Note' },
  { id: 2, name: 'Billing' },
  { id: 3, name: 'Collections' },
];

/** Registered inside the authenticated `/v4_6_release/apis/3.0` scope of routes.ts. */
export function registerCompanyNoteRoutes(api: FastifyInstance, state: ConnectWiseState, origin: () => string): void {
  const err = cwError;
  registerCompanyChildReads(api, state, origin, { path: 'notes', table: state.companyNotes, entity: ENTITIES.companyNote, typeName: 'CompanyNote' });

  api.post('/company/companies/:parentId/notes', async (req, reply) => {
    const companyId = companyOf(state, reply, (req.params as { parentId?: string }).parentId);
    if (companyId === null) return reply;
    const b = (req.body ?? {}) as Record<string, unknown>;
    const invalid = (field: string, message: string): FastifyReply =>
      reply.code(400).send(err('InvalidObject', 'companyNote object is invalid', [{ code: 'InvalidField', message, resource: 'companyNote', field }]));
    if (typeof b.text !== 'string' || b.text.trim().length === 0) return invalid('text', 'Text is required.');
    if (b.flagged !== undefined && typeof b.flagged !== 'boolean') return invalid('flagged', 'flagged must be true or false.');
    let type = NOTE_TYPES[0]!;
    if (b.type !== undefined) {
      const t = b.type as { id?: unknown } | null;
      const found = t && typeof t.id === 'number' ? NOTE_TYPES.find((n) => n.id === t.id) : undefined;
      if (!found) return invalid('type', 'type must reference an existing note type by id.');
      type = found;
    }
    const stamp = cwTimestamp(state.clock());
    const note = state.companyNotes.insert({
      id: state.companyNotes.nextId(),
      text: b.text,
      type,
      flagged: b.flagged === true,
      enteredBy: state.apiMember,
      company: state.companyRef(companyId),
      _info: { lastUpdated: stamp, updatedBy: state.apiMember, dateEntered: stamp, enteredBy: state.apiMember },
    });
    return reply.code(201).send(note);
  });
}
