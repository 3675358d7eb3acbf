#!/usr/bin/env node
// The operator CLI runs from the TypeScript sources of this checkout (after npm ci); see `acr-sync-alert help`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const io = { out: (s) => console.log(s), err: (s) => console.error(s), env: process.env };
process.exitCode = await main(process.argv.slice(2), io);
