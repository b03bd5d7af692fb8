import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTLE_NODE_FLAGS } from './node-flags.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe("Settle's node flags are the same on every launch path", () => {
  const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

  it('npm start and npm run settle', () => {
    for (const name of ['start', 'settle']) {
      expect(scripts[name], name).toMatch(new RegExp(`^node ${SETTLE_NODE_FLAGS.join(' ')} --import tsx src/cli/main\\.ts\\b`));
    }
  });

  it('the settle command', () => {
    const first = fs.readFileSync(path.join(ROOT, 'bin/settle.js'), 'utf8').split('\n')[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${SETTLE_NODE_FLAGS.join(' ')}`);
  });
});
