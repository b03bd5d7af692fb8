// Validates qbXML documents against Intuit's qbxmlops130.xsd (shared/specs/quickbooks-desktop) with xmllint
// compiled to WebAssembly (the npm package xmllint-wasm): no network and no system libxml2 at test time.
// Many documents go through one call — the schema (≈900 KB with its includes) is compiled once per call.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateXML } from 'xmllint-wasm';

const DIR = fileURLToPath(new URL('../../../../shared/specs/quickbooks-desktop/', import.meta.url));
const FILES = ['qbxmlops130.xsd', 'qbxml130.xsd', 'qbxmltypes130.xsd', 'qbxmlso130.xsd'] as const;

let schemas: { fileName: string; contents: string }[] | null = null;
function load(): { fileName: string; contents: string }[] {
  schemas ??= FILES.map((f) => ({ fileName: f, contents: readFileSync(`${DIR}${f}`, 'utf8') }));
  return schemas;
}

export interface XsdResult {
  readonly valid: boolean;
  /** xmllint's messages, each naming the document (doc-N.xml) and line. */
  readonly errors: readonly string[];
}

export async function validateQbxml(documents: readonly string[]): Promise<XsdResult> {
  if (documents.length === 0) return { valid: true, errors: [] };
  const [ops, ...rest] = load();
  const result = await validateXML({
    xml: documents.map((contents, i) => ({ fileName: `doc-${i}.xml`, contents })),
    schema: ops!,
    preload: rest,
    initialMemoryPages: 512,
    maxMemoryPages: 4096,
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage) };
}
