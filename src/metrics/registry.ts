import { collectDefaultMetrics, register } from 'prom-client';

/**
 * The metric of that name in prom-client's default registry, made on first use: a process
 * that starts several apps (the tests) shares one set, as a registry takes a name once.
 */
export function metric<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

/** prom-client's process and Node.js metrics (CPU, memory, event loop, GC), once a process. */
export function collectProcessMetrics(): void {
  if (!register.getSingleMetric('process_start_time_seconds')) collectDefaultMetrics();
}
