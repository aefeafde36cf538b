// The bench's defaults, apart from the bench itself so that the docs' figures can be checked
// against them without starting it.

/** Seconds each workload is driven, unless --duration says otherwise. */
export const DURATION_SECONDS = 10;
/** autocannon's connections, unless --connections says otherwise. */
export const CONNECTIONS = 32;
/** Rounds in which the servers take turns, unless --rounds says otherwise. */
export const ROUNDS = 3;
/** Warm-up requests per connection before a workload is measured. */
export const WARM_UP = 20;
/** Evaluations in each batch of the batch workload, and its connections. */
export const BATCH = 500;
export const BATCH_CONNECTIONS = 8;
