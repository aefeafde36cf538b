#!/usr/bin/env node
// The package's command, `assay`: `npx assay token --account A --sub U`.
import { tokenCommand } from './auth/token-command.js';

const COMMANDS: Record<string, (args: string[]) => void> = { token: tokenCommand };

const [name = '', ...args] = process.argv.slice(2);
const command = COMMANDS[name];
if (!command) {
  console.error(
    `${name ? `assay: no command '${name}'.` : 'assay: name a command.'} Commands: ${Object.keys(COMMANDS).join(', ')}.\n` +
      'usage: assay token --account ACCOUNT --sub USER [--evaluator UUID] [--ttl 1h]',
  );
  process.exit(2);
}
command(args);
