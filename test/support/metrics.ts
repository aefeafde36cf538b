/** One sample of a Prometheus text exposition, 0 when the series is absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const own = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => own[k] === v)) return Number(match[3]);
  }
  return 0;
}

/** Whether the exposition has any series of the metric. */
export const hasMetric = (text: string, name: string): boolean =>
  text.split('\n').some((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));
