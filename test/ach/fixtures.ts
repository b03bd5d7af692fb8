// Where the shared NACHA fixtures live: ../shared next to the repository (CI clones it the same way).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures/ach');

export function fixture(rel: string): Buffer {
  return fs.readFileSync(path.join(fixturesDir, rel));
}

export function fixtureNames(dir: string): string[] {
  return fs.readdirSync(path.join(fixturesDir, dir)).sort();
}

/** The repository's own NACHA cases for the content rules (test/ach/content, see its README.md). */
export const contentDir = path.resolve(repoRoot, 'test/ach/content');

export function contentFixture(name: string): Buffer {
  return fs.readFileSync(path.join(contentDir, name));
}

export function contentFixtureNames(): string[] {
  return fs
    .readdirSync(contentDir)
    .filter((n) => n.endsWith('.ach'))
    .sort();
}
