// The sleep of a polling loop that new work can cut short: the outbox
// relays (events, mail) poll their table, and a commit that adds rows wakes
// them so that delivery does not wait for the next poll. A wake-up that
// comes while the loop is busy is remembered: the next wakeable sleep
// returns at once, so no commit is left waiting a whole poll interval.
export class WakeUp {
  private woken = false;
  private stopped = false;
  private interrupt: ((byStop: boolean) => void) | null = null;

  /** New work was committed: end the current wakeable sleep, or the next one. */
  wake(): void {
    this.woken = true;
    this.interrupt?.(false);
  }

  /** Ends any sleep, wakeable or not; later sleeps return at once until resume(). */
  stop(): void {
    this.stopped = true;
    this.interrupt?.(true);
  }

  resume(): void {
    this.stopped = false;
  }

  /**
   * Sleeps `ms`. A wakeable sleep ends early on wake(); a sleep that is not
   * (a back-off after a failure) ends early only on stop().
   */
  sleep(ms: number, wakeable = true): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (wakeable && this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.interrupt = null;
        if (wakeable) this.woken = false;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.interrupt = (byStop) => {
        if (byStop || wakeable) finish();
      };
    });
  }
}
