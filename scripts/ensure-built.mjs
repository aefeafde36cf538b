// Builds what is older than its sources, so that `npm start`, `npm run token` and the specs
// begin at once when nothing changed since `npm install`: the server (TypeScript into dist/)
// and the dashboard (dist/dashboard).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const PARTS = [
  {
    built: 'dist/src/main.js',
    sources: ['src', 'bench', 'ormconfig.ts', 'tsconfig.json', 'tsconfig.build.json'],
    build: [
      createRequire(import.meta.url).resolve('typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
    ],
  },
  {
    built: 'dist/dashboard/index.html',
    // The dashboard bundles the typed client, so a new API document rebuilds it too.
    sources: ['dashboard', 'src/client'],
    build: ['dashboard/build.mjs'],
  },
];

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

for (const { built, sources, build } of PARTS) {
  if (existsSync(built) && Math.max(...sources.map(newest)) <= statSync(built).mtimeMs) continue;
  try {
    execFileSync(process.execPath, build, { stdio: 'inherit' });
  } catch {
    process.exit(1);
  }
}
