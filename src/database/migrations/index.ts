import { Initial1795535239826 } from './1795535239826-Initial.js';
import { StatsIndexesAndDirection1795700000000 } from './1795700000000-StatsIndexesAndDirection.js';

/** Every migration, oldest first. Listed, not globbed, so that tests and builds load the same set. */
export const MIGRATIONS = [Initial1795535239826, StatsIndexesAndDirection1795700000000];
