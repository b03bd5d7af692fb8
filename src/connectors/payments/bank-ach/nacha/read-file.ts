// The only I/O in the NACHA module: read a file's bytes (the parser itself is pure).
import fs from 'node:fs';
import { parseAch } from './parse.ts';
import type { AchParseOptions, AchParseResult } from './types.ts';

export function readAchFileSync(path: string): Buffer {
  return fs.readFileSync(path);
}

export async function readAchFile(path: string, options: AchParseOptions = {}): Promise<AchParseResult> {
  return parseAch(await fs.promises.readFile(path), options);
}
