// Run before `npm test`: the browser specs drive Debian's Chromium. When it is missing and this
// user can install it (root with apt-get), say first what will be installed, then install the
// chromium package alone: no recommended extras, and nothing upgraded that it does not need.
// Otherwise stop at once, naming the command to run.
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const INSTALL = ['install', '-y', '-qq', '--no-install-recommends', 'chromium'];
const COMMAND = 'apt-get update && apt-get install -y --no-install-recommends chromium';

const present = () => {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const apt = (command, args, stdio = 'pipe') =>
  execFileSync(command, args, { encoding: 'utf8', stdio });

/** The packages `apt-get install` would install or upgrade, from its own dry run. */
function plan() {
  const dryRun = apt('apt-get', ['-s', ...INSTALL]);
  return [...dryRun.matchAll(/^Inst (\S+)/gm)].map((m) => m[1]);
}

function install() {
  // An empty package list (a fresh machine) knows no chromium: read it once, saying so.
  if (!/Candidate: \d/.test(apt('apt-cache', ['policy', 'chromium']))) {
    console.error("Reading Debian's package lists (apt-get update) to find chromium.");
    apt('apt-get', ['update', '-qq'], 'inherit');
  }
  const packages = plan();
  console.error(
    `${CHROMIUM} is missing: the browser specs need it. Installing Debian's chromium and ` +
      `the ${packages.length} packages it needs (${packages.join(', ')}) with ` +
      `\`apt-get ${INSTALL.join(' ')}\`.`,
  );
  apt('apt-get', INSTALL, 'inherit');
}

if (!present()) {
  if (process.getuid?.() === 0) {
    try {
      install();
    } catch {
      // apt-get is not here, or failed: reported below.
    }
  }
  if (!present()) {
    console.error(
      `The tests need Chromium at ${CHROMIUM}. Install it first, as root:\n\n  ${COMMAND}\n`,
    );
    process.exit(1);
  }
}
