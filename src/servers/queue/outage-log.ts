// Redis going away is one event for the operator, not one per reconnect attempt: the first error of
// an outage is logged, the rest are counted, and the return of the connection is logged once.
export class OutageLog {
  private down = false;
  private quiet = 0;

  constructor(private readonly write: (line: string) => void) {}

  /** An error from Redis or the queue: logged when it starts an outage, counted while one lasts. */
  error(e: Error): void {
    if (this.down) {
      this.quiet++;
      return;
    }
    this.down = true;
    this.write(`pyfence worker: lost Redis (${e.message}); retrying until it is back`);
  }

  /** A connection is ready again. */
  up(): void {
    if (!this.down) return;
    this.down = false;
    this.write(`pyfence worker: Redis is back${this.quiet ? ` (${this.quiet} more errors while it was away)` : ''}`);
    this.quiet = 0;
  }
}
