// `node create-embedded-database.js DIR`: makes a new embedded database in DIR, then exits.
// The server runs this as a child process on its first start: the PGlite that runs initdb holds
// several hundred megabytes until it is collected, and a process of its own returns them at once.
import { createEmbeddedDatabase } from './pglite-driver.js';

await createEmbeddedDatabase(process.argv[2]);
