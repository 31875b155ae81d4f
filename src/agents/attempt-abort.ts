/**
 * An attempt's abort (timeout, cancellation, shutdown), with its AbortController made only when something asks for
 * the signal. Most attempts end without anyone listening (an SDK handler that never looks at its signal), and an
 * AbortController's signal costs 3.5–5.7 µs here (a warm loop of 100,000) and gets a hidden class of its own
 * (Node's `createAbortSignal` reshapes each new signal). A signal asked for after the abort is made aborted, with
 * the same reason.
 */
export class AttemptAbort {
  private controller: AbortController | undefined;
  private abortedWith: unknown;
  private isAborted = false;

  get aborted(): boolean {
    return this.isAborted;
  }

  /** What abort() was given ('timeout', 'cancelled', 'shutdown'), or undefined while not aborted. */
  get reason(): unknown {
    return this.abortedWith;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.abortedWith);
    }
    return this.controller.signal;
  }

  /** Aborts once: a later call keeps the first reason, as AbortController does. */
  abort(reason: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortedWith = reason;
    this.controller?.abort(reason);
  }
}
