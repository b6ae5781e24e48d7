// Runs a function once at the end of the current tick however often it is asked for: the
// pools hand out the calls submitted in the same tick together (one write, one batch).
export class Microtask {
  readonly #run: () => void;
  #queued = false;

  constructor(run: () => void) {
    this.#run = run;
  }

  schedule(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      this.#run();
    });
  }
}
