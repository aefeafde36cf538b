/** How the statistics feature is tuned by its host. */
export interface StatsOptions {
  /** Statement timeout of statistics queries, in milliseconds. */
  timeoutMs: number;
}

export const STATS_OPTIONS = Symbol('STATS_OPTIONS');

/** DB_STATS_TIMEOUT's default, 30 s. */
export const DEFAULT_STATS_TIMEOUT_MS = 30_000;
