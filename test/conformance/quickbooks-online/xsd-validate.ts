// A JSON-against-XSD checker for QuickBooks Online answers, read from Intuit's own schema files in
// ../shared/specs/quickbooks-online/xsd. QBO's JSON is its XML model with the same names: an element or an
// attribute becomes a key, an element that may repeat (maxOccurs > 1) an array, a simpleContent type such
// as ReferenceType an object {value, name?, type?}, and an `ref="IntuitObject"` any member of that
// substitution group (Invoice, Payment, …). Checked: every key is defined by the type or its bases; each
// value has its XSD type (string, number, integer, boolean, date, dateTime, enumeration); single elements
// are not arrays and repeating ones are; required elements (minOccurs ≥ 1 outside a choice) and required
// attributes are present. Not checked: sequence order (JSON has none) and string facets other than enums.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';

export const XSD_DIR = fileURLToPath(new URL('../../../../shared/specs/quickbooks-online/xsd/', import.meta.url));
const FILES = ['IntuitBaseTypes.xsd', 'Finance.xsd', 'IntuitNamesTypes.xsd', 'IntuitRestServiceDef.xsd', 'SalesTax.xsd', 'Report.xsd'];

interface Field {
  readonly type: string | null;
  readonly ref: string | null;
  readonly required: boolean;
  readonly repeats: boolean;
}
interface ComplexType {
  readonly base: string | null;
  readonly simpleContent: boolean;
  readonly elements: Map<string, Field>;
  readonly attributes: Map<string, { type: string; required: boolean }>;
}
interface SimpleType {
  readonly base: string;
  readonly enums: readonly string[] | null;
}
type Node = Record<string, unknown>;
const ARRAYS = new Set(['complexType', 'simpleType', 'element', 'attribute', 'sequence', 'choice', 'all', 'group', 'enumeration']);

export class XsdModel {
  readonly complex = new Map<string, ComplexType>();
  readonly simple = new Map<string, SimpleType>();
  /** Substitution-group head → member element name → type (IntuitObject → Invoice → Invoice, …). */
  readonly groups = new Map<string, Map<string, string>>();

  constructor(dir = XSD_DIR) {
    if (!existsSync(dir)) throw new Error(`QuickBooks Online XSDs not found at ${dir} (shared/ must sit beside the repository)`);
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true, isArray: (n) => ARRAYS.has(n) });
    for (const file of FILES) {
      if (!existsSync(dir + file)) continue;
      const schema = (parser.parse(readFileSync(dir + file, 'utf8')) as Node)['schema'] as Node;
      for (const st of (schema['simpleType'] as Node[] | undefined) ?? []) {
        const r = st['restriction'] as Node | undefined;
        const enums = ((r?.['enumeration'] as Node[] | undefined) ?? []).map((e) => String(e['@_value']));
        this.simple.set(String(st['@_name']), { base: String(r?.['@_base'] ?? 'xs:string'), enums: enums.length ? enums : null });
      }
      for (const ct of (schema['complexType'] as Node[] | undefined) ?? []) this.addComplex(String(ct['@_name']), ct);
      for (const el of (schema['element'] as Node[] | undefined) ?? []) {
        const head = el['@_substitutionGroup'];
        if (head === undefined) continue;
        const g = this.groups.get(String(head)) ?? new Map<string, string>();
        g.set(String(el['@_name']), String(el['@_type']));
        this.groups.set(String(head), g);
      }
    }
  }

  private addComplex(name: string, ct: Node): void {
    const simpleContent = ct['simpleContent'] !== undefined;
    const content = (ct['complexContent'] ?? ct['simpleContent']) as Node | undefined;
    const ext = (content?.['extension'] ?? content?.['restriction']) as Node | undefined;
    const body = ext ?? ct;
    const elements = new Map<string, Field>();
    collect(body, elements, false);
    const attributes = new Map<string, { type: string; required: boolean }>();
    for (const a of (body['attribute'] as Node[] | undefined) ?? []) {
      attributes.set(String(a['@_name']), { type: String(a['@_type'] ?? 'xs:string'), required: a['@_use'] === 'required' });
    }
    this.complex.set(name, { base: ext ? String(ext['@_base']) : null, simpleContent, elements, attributes });
  }

  /** Elements and attributes of a type and its bases (an extension's own first). */
  private chain(type: string): ComplexType[] {
    const out: ComplexType[] = [];
    for (let t = this.complex.get(type); t; t = t.base ? this.complex.get(t.base) : undefined) out.push(t);
    return out;
  }

  /** Problems with `value` as an instance of complexType or simpleType `type`; empty when it conforms. */
  validate(type: string, value: unknown, path = type): string[] {
    const errors: string[] = [];
    this.check(type, value, path, errors);
    return errors;
  }

  private check(type: string, value: unknown, path: string, errors: string[]): void {
    const ct = this.complex.get(type);
    if (!ct) {
      const problem = this.simpleProblem(type, value);
      if (problem) errors.push(`${path}: ${problem}`);
      return;
    }
    const chain = this.chain(type);
    if (chain.some((c) => c.simpleContent)) {
      // simpleContent (ReferenceType, …): {value, <attributes>}
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        errors.push(`${path}: expected {value, …} for ${type}, got ${JSON.stringify(value)}`);
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        if (k === 'value') {
          if (typeof v !== 'string') errors.push(`${path}.value: expected a string, got ${JSON.stringify(v)}`);
          continue;
        }
        const a = chain.map((c) => c.attributes.get(k)).find((x) => x);
        if (!a) errors.push(`${path}.${k}: not defined by ${type}`);
        else this.check(a.type, v, `${path}.${k}`, errors);
      }
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      errors.push(`${path}: expected an object (${type}), got ${JSON.stringify(value)?.slice(0, 80)}`);
      return;
    }
    const obj = value as Node;
    for (const [k, v] of Object.entries(obj)) {
      let field: Field | undefined;
      let fieldType: string | null = null;
      for (const c of chain) {
        const f = c.elements.get(k);
        if (f) {
          field = f;
          fieldType = f.type;
          break;
        }
        for (const [ref, f2] of c.elements) {
          const member = f2.ref ? this.groups.get(ref)?.get(k) : undefined;
          if (member) {
            field = f2;
            fieldType = member;
            break;
          }
        }
        if (field) break;
      }
      if (field) {
        if (field.repeats !== Array.isArray(v)) {
          errors.push(`${path}.${k}: ${field.repeats ? 'repeats in the XSD, so it is a JSON array' : 'is a single element, not an array'}`);
          continue;
        }
        if (fieldType === null) continue; // an inline anonymous type: not modelled here
        const items = Array.isArray(v) ? v : [v];
        items.forEach((item, i) => this.check(fieldType!, item, Array.isArray(v) ? `${path}.${k}[${i}]` : `${path}.${k}`, errors));
        continue;
      }
      const a = chain.map((c) => c.attributes.get(k)).find((x) => x);
      if (a) {
        this.check(a.type, v, `${path}.${k}`, errors);
        continue;
      }
      errors.push(`${path}.${k}: not defined by ${type} or its bases`);
    }
    for (const c of chain) {
      for (const [name, f] of c.elements) if (f.required && !f.ref && !(name in obj)) errors.push(`${path}: required element ${name} is missing`);
      for (const [name, a] of c.attributes) if (a.required && !(name in obj)) errors.push(`${path}: required attribute ${name} is missing`);
    }
  }

  private simpleProblem(type: string, value: unknown): string | null {
    const st = this.simple.get(type);
    if (st) {
      if (st.enums && !st.enums.includes(String(value))) return `${JSON.stringify(value)} is not one of ${type} (${st.enums.join(', ')})`;
      return this.simpleProblem(st.base, value);
    }
    switch (type.replace(/^xs:/, '')) {
      case 'string':
      case 'anyURI':
      case 'token':
      case 'normalizedString':
      case 'NMTOKEN':
        return typeof value === 'string' ? null : `expected a string, got ${JSON.stringify(value)}`;
      case 'decimal':
      case 'double':
      case 'float':
        return typeof value === 'number' && Number.isFinite(value) ? null : `expected a number, got ${JSON.stringify(value)}`;
      case 'int':
      case 'integer':
      case 'long':
      case 'short':
      case 'positiveInteger':
      case 'nonNegativeInteger':
        return typeof value === 'number' && Number.isInteger(value) ? null : `expected an integer, got ${JSON.stringify(value)}`;
      case 'boolean':
        return typeof value === 'boolean' ? null : `expected a boolean, got ${JSON.stringify(value)}`;
      case 'date':
        return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? null : `expected a date yyyy-MM-dd, got ${JSON.stringify(value)}`;
      case 'dateTime':
        return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)
          ? null
          : `expected a dateTime with offset, got ${JSON.stringify(value)}`;
      case 'anyType':
        return null;
      default:
        return `no simpleType ${type} in the XSDs`;
    }
  }
}

function collect(node: Node, out: Map<string, Field>, inChoice: boolean): void {
  for (const el of (node['element'] as Node[] | undefined) ?? []) {
    const ref = el['@_ref'] === undefined ? null : String(el['@_ref']);
    const name = String(el['@_name'] ?? ref);
    const min = el['@_minOccurs'] === undefined ? 1 : Number(el['@_minOccurs']);
    const maxRaw = el['@_maxOccurs'];
    const repeats = maxRaw === 'unbounded' || (maxRaw !== undefined && Number(maxRaw) > 1);
    out.set(name, { type: el['@_type'] === undefined ? null : String(el['@_type']), ref, required: !inChoice && min >= 1, repeats });
  }
  for (const key of ['sequence', 'all', 'group']) for (const child of (node[key] as Node[] | undefined) ?? []) collect(child, out, inChoice);
  for (const child of (node['choice'] as Node[] | undefined) ?? []) collect(child, out, true);
}
