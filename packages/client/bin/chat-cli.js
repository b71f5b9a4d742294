#!/usr/bin/env node
// npm links `chat-cli` to this file at install time, before anything is built; the CLI itself
// is compiled to dist/ by `npm run build` (which `npm start` and `npm test` run).
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const built = new URL('../dist/cli/chat-cli.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('chat-cli is not built yet: run `npm run build` (or `npm start`) at the repository root first\n');
  process.exit(1);
}
await import(built.href);
