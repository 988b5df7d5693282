// Entering a guest, for every engine built on shared host imports. The imports of a module are made
// once and act on the instance whose code is running (`ActiveGuest`); an instance released from
// inside one of its own calls (a host function disposing its sandbox) finishes that call first and
// ends only once no guest frame of it is left (`GuestCalls`).

/** The import state of the instance whose code is running, set and restored around every entry. */
export class ActiveGuest<S> {
  private current: S | null = null;

  constructor(private readonly entry: string) {}

  /** For the shared imports: the running instance's state; a call from outside an entry is a bug. */
  readonly get = (): S => {
    if (!this.current) throw new Error(`pyfence: a guest called the host outside ${this.entry}`);
    return this.current;
  };

  /** Runs `fn` with `state` active; nested entries (an import of one sandbox running another) stay correct. */
  with<R>(state: S, fn: () => R): R {
    const previous = this.current;
    this.current = state;
    try {
      return fn();
    } finally {
      this.current = previous;
    }
  }
}

/** One instance's guest calls in progress, and its release, deferred until none is left. */
export class GuestCalls {
  private depth = 0;
  private ended = false;

  /** `end`: what releasing does once no guest frame of the instance is left (give its memory back). */
  constructor(private readonly end: () => void) {}

  get released(): boolean {
    return this.ended;
  }

  enter<R>(fn: () => R): R {
    if (this.ended) throw new Error('pyfence: this interpreter has been released');
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.ended && this.depth === 0) this.end();
    }
  }

  /** Marks the instance released; `end` runs now, or when its outermost call returns. */
  release(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.depth === 0) this.end();
  }
}
