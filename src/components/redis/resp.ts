// A minimal Redis client over node:net speaking RESP2: commands go out as
// arrays of bulk strings and replies come back as Buffers, so binary keys
// and values stay byte-exact (no client library decodes them as UTF-8).
// Requests are pipelined and answered in order. The password is sent once
// in AUTH and held in memory only. `redisTransport` is the seam unit tests
// point at an in-memory server, as serveCql does for Cassandra.
import { connect as netConnect, type Socket } from 'node:net';

export type Reply = Buffer | number | null | Reply[] | RedisReplyError;

/** An error reply; `code` is its first word (ERR, WRONGPASS, NOAUTH, LOADING, ...), the protocol's error kind. */
export class RedisReplyError extends Error {
  readonly code: string;
  constructor(line: string) {
    super(line);
    this.name = 'RedisReplyError';
    this.code = /^[A-Z]+/.exec(line)?.[0] ?? 'ERR';
  }
}

export const redisTransport = {
  connect(host: string, port: number): Socket {
    return netConnect({ host, port });
  },
};

/** Incremental RESP2 reply parser over a growing buffer. */
class Parser {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** The next complete reply, or undefined when more bytes are needed. */
  next(): { value: Reply } | undefined {
    const parsed = this.parse(0);
    if (!parsed) return undefined;
    this.buffer = this.buffer.subarray(parsed.end);
    return { value: parsed.value };
  }

  private parse(at: number): { value: Reply; end: number } | undefined {
    const lineEnd = this.buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const type = String.fromCharCode(this.buffer[at]!);
    const line = this.buffer.toString('utf8', at + 1, lineEnd);
    const after = lineEnd + 2;
    switch (type) {
      case '+':
        return { value: Buffer.from(line), end: after };
      case '-':
        return { value: new RedisReplyError(line), end: after };
      case ':':
        return { value: Number(line), end: after };
      case '$': {
        const length = Number(line);
        if (length < 0) return { value: null, end: after };
        if (this.buffer.length < after + length + 2) return undefined;
        return { value: Buffer.from(this.buffer.subarray(after, after + length)), end: after + length + 2 };
      }
      case '*': {
        const count = Number(line);
        if (count < 0) return { value: null, end: after };
        const items: Reply[] = [];
        let end = after;
        for (let i = 0; i < count; i++) {
          const item = this.parse(end);
          if (!item) return undefined;
          items.push(item.value);
          end = item.end;
        }
        return { value: items, end };
      }
      default:
        throw new Error(`unexpected RESP reply type "${type}"`);
    }
  }
}

function encode(args: readonly (string | Buffer | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export interface RedisConnection {
  /** Sends one command; resolves with its reply, rejects with RedisReplyError on an error reply. */
  call(...args: (string | Buffer | number)[]): Promise<Reply>;
  close(): Promise<void>;
}

/** Opens a connection; socket failures reject (the caller turns them into its own error). */
export function openRedis(host: string, port: number, timeoutMs = 15_000): Promise<RedisConnection> {
  return new Promise((resolve, reject) => {
    const socket = redisTransport.connect(host, port);
    const parser = new Parser();
    const waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
    let failure: Error | undefined;
    const fail = (error: Error) => {
      failure ??= error;
      for (const w of waiting.splice(0)) w.reject(error);
    };
    let connected = false;
    // A connection held idle is fine (a backup holds one across a freeze
    // window that may stop services for longer); a connect or a command left
    // without its answer for timeoutMs is not.
    socket.setTimeout(timeoutMs);
    // Not setTimeout's callback: that one is called once only.
    socket.on('timeout', () => {
      if (connected && waiting.length === 0) return;
      socket.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs / 1000} s`));
    });
    socket.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      try {
        for (let next = parser.next(); next; next = parser.next()) {
          const w = waiting.shift();
          if (!w) continue;
          if (next.value instanceof RedisReplyError) w.reject(next.value);
          else w.resolve(next.value);
        }
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on('error', (error) => {
      fail(error);
      reject(error);
    });
    socket.on('close', () => fail(new Error(`connection to ${host}:${port} closed`)));
    socket.once('connect', () => {
      connected = true;
      resolve({
        call(...args) {
          if (failure) return Promise.reject(failure);
          return new Promise<Reply>((res, rej) => {
            waiting.push({ resolve: res, reject: rej });
            socket.write(encode(args));
          });
        },
        close() {
          return new Promise<void>((res) => {
            if (socket.destroyed) return res();
            socket.once('close', () => res());
            socket.end();
            setTimeout(() => socket.destroy(), 1000).unref();
          });
        },
      });
    });
  });
}

/** A reply as text (simple and bulk strings). */
export function asText(reply: Reply): string {
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (typeof reply === 'number') return String(reply);
  return '';
}

/** `field:value` lines of an INFO reply. */
export function parseInfo(reply: Reply): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of asText(reply).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}
