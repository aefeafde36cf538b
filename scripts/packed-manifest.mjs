// `npm pack` and `npm publish` run this before (strip) and after (restore) they pack. The
// package holds dist/src alone, so its package.json keeps none of the scripts and settings
// that serve this checkout (build, test, start, bench…): each needs files it does not ship.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

const MANIFEST = 'package.json';
const KEPT = `${MANIFEST}.unpacked`;

if (process.argv[2] === 'strip') {
  const text = readFileSync(MANIFEST, 'utf8');
  writeFileSync(KEPT, text);
  const packed = JSON.parse(text);
  for (const key of ['scripts', 'config', 'devDependencies', 'overrides']) delete packed[key];
  writeFileSync(MANIFEST, `${JSON.stringify(packed, null, 2)}\n`);
} else {
  renameSync(KEPT, MANIFEST);
}
