// Run before `npm test`: the Swagger UI spec drives Debian's Chromium. When it is missing,
// install it if this user can (root with apt-get); otherwise stop at once, naming the command.
import { execSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const INSTALL = 'apt-get update && apt-get install -y chromium';

const present = () => {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const canInstall = () => {
  if (process.getuid?.() !== 0) return false;
  try {
    execSync('command -v apt-get', { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

if (!present()) {
  if (canInstall()) {
    console.error(`${CHROMIUM} is missing; installing Debian's chromium for the browser spec.`);
    try {
      execSync(`apt-get update -qq && apt-get install -y -qq chromium`, { stdio: 'inherit' });
    } catch {
      // reported below
    }
  }
  if (!present()) {
    console.error(
      `The tests need Chromium at ${CHROMIUM}. Install it first, as root:\n\n  ${INSTALL}\n`,
    );
    process.exit(1);
  }
}
