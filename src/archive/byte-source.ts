// Pull-based access to a chunked stream, for parsers that need exact byte
// counts (tar blocks, gzip trailers) and must hand back what they over-read
// (a decoder that stops at the end of its frame).

const EMPTY = Buffer.alloc(0);

export class ByteSource {
  readonly #iterator: AsyncIterator<Buffer>;
  readonly #pending: Buffer[] = [];
  #done = false;
  // An async iterator that threw reports "done" afterwards, which a parser
  // would take for a clean end: the first error is kept and thrown again.
  #error: { value: unknown } | undefined;

  constructor(chunks: AsyncIterable<Buffer>) {
    this.#iterator = chunks[Symbol.asyncIterator]();
  }

  /** Up to `max` bytes (at least one), or null once the stream has ended. */
  async read(max: number): Promise<Buffer | null> {
    if (this.#error) throw this.#error.value;
    const head = this.#pending.shift();
    if (head !== undefined) return this.#take(head, max);
    if (this.#done) return null;
    let result: IteratorResult<Buffer>;
    try {
      result = await this.#iterator.next();
    } catch (error) {
      this.#error = { value: error };
      throw error;
    }
    if (result.done) {
      this.#done = true;
      return null;
    }
    // Zero-length chunks would read as "end" to callers that test length.
    return result.value.length === 0 ? this.read(max) : this.#take(result.value, max);
  }

  /** Exactly `count` bytes, or fewer only when the stream ends first. */
  async readUpTo(count: number): Promise<Buffer> {
    if (count === 0) return EMPTY;
    const first = await this.read(count);
    if (first === null) return EMPTY;
    if (first.length === count) return first;
    const parts = [first];
    let have = first.length;
    while (have < count) {
      const next = await this.read(count - have);
      if (next === null) break;
      parts.push(next);
      have += next.length;
    }
    return Buffer.concat(parts, have);
  }

  /** Gives bytes back; the next read returns them first. */
  unshift(bytes: Buffer): void {
    if (bytes.length > 0) this.#pending.unshift(bytes);
  }

  async atEnd(): Promise<boolean> {
    const next = await this.read(Number.MAX_SAFE_INTEGER);
    if (next === null) return true;
    this.unshift(next);
    return false;
  }

  /** Stops the underlying iterator (closing its file or stream). */
  async close(): Promise<void> {
    this.#done = true;
    this.#pending.length = 0;
    await this.#iterator.return?.();
  }

  #take(chunk: Buffer, max: number): Buffer {
    if (chunk.length <= max) return chunk;
    this.#pending.unshift(chunk.subarray(max));
    return chunk.subarray(0, max);
  }
}
