import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Stops at once, saying why and what to do, when the app and Assay would load two copies
 * of @nestjs/core: Nest would otherwise fail later with "can't resolve dependencies" and
 * no hint. It happens when Assay is installed as a link to a checkout (`npm install
 * ../assay`), whose own node_modules then serve Assay's imports.
 */
export function assertOneNestCore(): void {
  const main = process.argv[1];
  if (!main) return;
  let app: string;
  let assay: string;
  try {
    app = realpathSync(createRequire(realpathSync(main)).resolve('@nestjs/core'));
    assay = realpathSync(createRequire(import.meta.url).resolve('@nestjs/core'));
  } catch {
    return; // not resolvable from the entry script (a bundle, say): nothing to compare
  }
  if (app === assay) return;
  throw new Error(
    `Two copies of @nestjs/core: the app loads ${app}, Assay loads ${assay}. Assay is ` +
      'probably installed as a link to a checkout; install it as a copy instead: ' +
      '`npm install --install-links <path to assay>`, or from the tarball of `npm pack`.',
  );
}
