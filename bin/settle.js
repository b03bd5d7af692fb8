#!/usr/bin/env -S node --max-old-space-size=512
// The `settle` command. Settle runs its TypeScript sources through tsx so that a fresh clone needs no
// build step: `npm install && npm start` is the whole setup. The heap ceiling: src/cli/node-flags.ts.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
