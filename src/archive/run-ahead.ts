// A generator run ahead of its reader: it is pulled as fast as it yields
// into a bounded buffer, and the reader takes the buffered output later, in
// order. The frame decoder uses it to decode the next zstd frames on the
// thread pool while the reader is still hashing or extracting the one before.

export class RunAhead {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #done = false;
  #cancelled = false;
  #failure: { value: unknown } | undefined;
  #wakeReader: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;

  /** Starts pulling `source` now; it pauses while `limit` bytes or more wait unread. */
  constructor(source: AsyncGenerator<Buffer>, limit: number) {
    this.#limit = limit;
    void this.#pull(source);
  }

  /** A unit whose only content is an error, thrown when the reader reaches it. */
  static failed(error: unknown): RunAhead {
    return new RunAhead(
      (async function* () {
        yield* [];
        throw error;
      })(),
      0,
    );
  }

  async #pull(source: AsyncGenerator<Buffer>): Promise<void> {
    try {
      for await (const chunk of source) {
        this.#chunks.push(chunk);
        this.#bytes += chunk.length;
        this.#wake();
        while (this.#bytes >= this.#limit && this.#bytes > 0 && !this.#cancelled) {
          await new Promise<void>((resolve) => {
            this.#wakeProducer = resolve;
          });
        }
        // Leaving the loop returns the generator, which releases its decoder.
        if (this.#cancelled) break;
      }
    } catch (error) {
      this.#failure = { value: error };
    } finally {
      this.#done = true;
      this.#wake();
    }
  }

  #wake(): void {
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
  }

  /** The output in order, then the source's error if it failed. */
  async *drain(): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        this.#bytes -= chunk.length;
        const resume = this.#wakeProducer;
        this.#wakeProducer = undefined;
        resume?.();
        yield chunk;
        continue;
      }
      if (this.#done) {
        if (this.#failure) throw this.#failure.value;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wakeReader = resolve;
      });
    }
  }

  /** Stops pulling (the reader went away) and drops what was buffered. */
  cancel(): void {
    this.#cancelled = true;
    this.#chunks.length = 0;
    this.#bytes = 0;
    const resume = this.#wakeProducer;
    this.#wakeProducer = undefined;
    resume?.();
  }
}
