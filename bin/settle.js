#!/usr/bin/env node
// The `settle` command. Settle runs its TypeScript sources through tsx so that a fresh clone needs no
// build step: `npm install && npm start` is the whole setup.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
