// Reads Intuit's published entity model (the v3 XSDs in shared/specs/quickbooks-online/xsd) into a
// map of complexType → element and attribute names, following `extension base=` chains. Used by the
// tests that hold the simulator's JSON to the vendor's own description, and by the check that the
// simulator's built-in field lists (schema-fields.ts) still match the XSD.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';

export interface XsdType {
  readonly name: string;
  readonly base: string | null;
  readonly elements: ReadonlyMap<string, string | null>; // element name → type name
  readonly attributes: readonly string[];
}

/** shared/ sits beside the repository, for developers and in CI alike. */
export const XSD_DIR = fileURLToPath(new URL('../../../shared/specs/quickbooks-online/xsd/', import.meta.url));
const FILES = ['IntuitBaseTypes.xsd', 'Finance.xsd', 'IntuitNamesTypes.xsd', 'IntuitRestServiceDef.xsd'];

type Node = Record<string, unknown>;
const ARRAYS = new Set(['complexType', 'element', 'attribute', 'sequence', 'choice', 'all', 'group']);

export function loadXsdTypes(dir = XSD_DIR): Map<string, XsdType> {
  if (!existsSync(dir)) throw new Error(`QuickBooks Online XSDs not found at ${dir} (shared/ must sit beside the repository)`);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    removeNSPrefix: true,
    isArray: (name) => ARRAYS.has(name),
  });
  const types = new Map<string, XsdType>();
  for (const file of FILES) {
    const doc = parser.parse(readFileSync(dir + file, 'utf8')) as Node;
    const schema = doc['schema'] as Node;
    for (const ct of (schema['complexType'] as Node[] | undefined) ?? []) {
      const name = String(ct['@_name']);
      const content = (ct['complexContent'] ?? ct['simpleContent']) as Node | undefined;
      const ext = (content?.['extension'] ?? content?.['restriction']) as Node | undefined;
      const body = ext ?? ct;
      const elements = new Map<string, string | null>();
      collectElements(body, elements);
      const attributes = ((body['attribute'] as Node[] | undefined) ?? []).map((a) => String(a['@_name']));
      types.set(name, { name, base: ext ? String(ext['@_base']) : null, elements, attributes });
    }
  }
  return types;
}

/** Direct child elements through sequence/choice/all nesting, not into an element's own inline type. */
function collectElements(node: Node, out: Map<string, string | null>): void {
  for (const el of (node['element'] as Node[] | undefined) ?? []) {
    const name = el['@_name'] ?? el['@_ref'];
    if (name !== undefined) out.set(String(name), el['@_type'] === undefined ? null : String(el['@_type']));
  }
  for (const key of ['sequence', 'choice', 'all', 'group']) {
    for (const child of (node[key] as Node[] | undefined) ?? []) collectElements(child, out);
  }
}

/** Every element and attribute name of a type and its bases, with the type each element has. */
export function fieldsOf(types: Map<string, XsdType>, typeName: string): Map<string, string | null> {
  const out = new Map<string, string | null>();
  let t = types.get(typeName);
  if (!t) throw new Error(`no complexType ${typeName} in the XSDs`);
  while (t) {
    for (const [k, v] of t.elements) if (!out.has(k)) out.set(k, v);
    for (const a of t.attributes) if (!out.has(a)) out.set(a, 'xs:string');
    t = t.base ? types.get(t.base) : undefined;
  }
  return out;
}
