import { Initial1795535239826 } from './1795535239826-Initial.js';

/** Every migration, oldest first. Listed, not globbed, so that tests and builds load the same set. */
export const MIGRATIONS = [Initial1795535239826];
