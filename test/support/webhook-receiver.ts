import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/**
 * A loopback HTTP endpoint that records what is POSTed to it: a real webhook receiver for
 * notification tests. `status` sets the reply (e.g. 503 to make the collector retry); `hold`
 * keeps requests unanswered until released, to stop a collector in the middle of a delivery.
 */
export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  /** performance.now() when the body had arrived. */
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedRequest[];
  status: number;
  hold: boolean;
  /** Answers every held request. */
  release(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const held: (() => void)[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    status: 200,
    hold: false,
    release: () => {
      for (const answer of held.splice(0)) answer();
    },
    close: () =>
      new Promise((resolve) => {
        receiver.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      receiver.received.push({ headers: request.headers, body, json, at: performance.now() });
      const answer = () => {
        response.writeHead(receiver.status, { 'content-type': 'text/plain' });
        response.end('ok');
      };
      if (receiver.hold) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  return receiver;
}
