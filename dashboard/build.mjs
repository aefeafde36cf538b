// Builds the dashboard into dist/dashboard: one minified script bundle and its stylesheet,
// both also stored gzipped so that the server sends them compressed without work per request.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = (path) => new URL(path, import.meta.url).pathname;
const OUT = here('../dist/dashboard/');

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
await build({
  entryPoints: [here('src/main.tsx')],
  outfile: `${OUT}app.js`,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: here('tsconfig.json'),
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const name of readdirSync(here('public'))) copyFileSync(here(`public/${name}`), OUT + name);
for (const name of readdirSync(OUT).filter((n) => /\.(js|css|html|svg|txt)$/.test(n)))
  writeFileSync(`${OUT}${name}.gz`, gzipSync(readFileSync(OUT + name), { level: 9 }));
