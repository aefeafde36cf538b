import type { Logger } from '@nestjs/common';

/**
 * Runs `round` over and over in the background: `tickMs` apart, at once after a round that
 * says more work waits, and with a pause doubling after each failure up to `maxBackoffMs`.
 * The first failure is logged, and the recovery, once each: never a line per round.
 */
export class Rounds {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private failures = 0;

  constructor(
    private readonly logger: Logger,
    /** What runs, for the log: "Outbox", "Webhook". */
    private readonly what: string,
    private readonly round: () => Promise<boolean>,
    private readonly tickMs: number,
    private readonly maxBackoffMs: number,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** No round starts after this; the one running, if any, is waited for. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      let next = this.tickMs;
      this.running = this.round().then(
        (more) => {
          if (this.failures > 0)
            this.logger.log(`${this.what} rounds recovered after ${this.failures} failed rounds`);
          this.failures = 0;
          if (more) next = 0;
        },
        (err: unknown) => {
          if (this.failures === 0) {
            this.logger.warn(
              `${this.what} round failed, retrying with backoff: ${err instanceof Error ? err.message : String(err)}`,
            );
          }
          this.failures++;
        },
      );
      void this.running.then(() =>
        this.schedule(Math.min(next * 2 ** this.failures, this.maxBackoffMs)),
      );
    }, delay);
    this.timer.unref();
  }
}
