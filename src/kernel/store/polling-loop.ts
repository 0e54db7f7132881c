/**
 * The loop behind the outbox relay and the job runner: run a round, and when it did not fill its batch
 * (nothing more is probably waiting) sleep for the poll interval unless `wake()` cuts the sleep short.
 * A round that throws is reported and the loop goes on; `stop()` resolves once the round in progress ends.
 */
export class PollingLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(
    /** One round; resolves true when its batch was full and another round should follow at once. */
    private readonly round: () => Promise<boolean>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let full = false;
      try {
        full = await this.round();
      } catch (err) {
        this.onError(err);
      }
      if (!this.running) break;
      if (full) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.intervalMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wakeUp = done;
      });
      this.wakeUp = undefined;
    }
  }
}
