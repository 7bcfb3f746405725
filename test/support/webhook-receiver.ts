// A real HTTP server on 127.0.0.1 that records every request it gets, for
// the webhook tests. `answer` decides the response (default 200); one that
// never answers stands for an endpoint that hangs.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Ping {
  method: string;
  /** Path and query as requested. */
  path: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

export interface Receiver {
  /** http://127.0.0.1:<port> */
  origin: string;
  pings: Ping[];
  close(): Promise<void>;
}

export async function startReceiver(answer: (request: IncomingMessage, response: ServerResponse) => void = (_q, r) => r.end('OK')): Promise<Receiver> {
  const pings: Ping[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      pings.push({ method: request.method ?? '', path: request.url ?? '', contentType: request.headers['content-type'], body: text ? JSON.parse(text) : {} });
      answer(request, response);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    pings,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** A local URL nothing listens on: a port that was free a moment ago. */
export async function deadUrl(): Promise<string> {
  const receiver = await startReceiver();
  await receiver.close();
  return receiver.origin;
}
