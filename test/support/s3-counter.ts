// A counting proxy in front of the S3 emulator: every request passes through
// unchanged, and is counted by S3 operation (ListObjectsV2, GetObject, ...),
// with the prefix each listing asked for and how many keys it returned. The
// tests and the benchmark point the backend's `endpoints.s3` here to see what
// a job costs the bucket, whoever sends it (Terraform or the worker's SDK).
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Listing = { prefix: string; keys: number };
export type S3Counts = { requests: number; byOperation: Record<string, number>; listings: Listing[] };

export class S3Counter {
  readonly #target: URL;
  readonly #server: Server;
  #counts: S3Counts = { requests: 0, byOperation: {}, listings: [] };

  constructor(targetUrl: string) {
    this.#target = new URL(targetUrl);
    this.#server = createServer((req, res) => this.#forward(req, res));
  }

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  // What was counted since the last call; the counts start again from zero.
  take(): S3Counts {
    const counts = this.#counts;
    this.#counts = { requests: 0, byOperation: {}, listings: [] };
    return counts;
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://s3');
    const operation = operationOf(req.method ?? 'GET', url);
    const counts = this.#counts;
    counts.requests += 1;
    counts.byOperation[operation] = (counts.byOperation[operation] ?? 0) + 1;
    const upstream = request(
      { host: this.#target.hostname, port: this.#target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (operation === 'ListObjectsV2') {
          let body = '';
          answer.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          answer.on('end', () =>
            counts.listings.push({
              prefix: url.searchParams.get('prefix') ?? '',
              keys: body.split('<Key>').length - 1,
            }),
          );
        }
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}

// Path-style requests: /<bucket> is the bucket, /<bucket>/<key> an object.
function operationOf(method: string, url: URL): string {
  const onObject = url.pathname.split('/').filter(Boolean).length > 1;
  if (onObject)
    return (
      { GET: 'GetObject', PUT: 'PutObject', DELETE: 'DeleteObject', HEAD: 'HeadObject' }[method] ?? `${method} object`
    );
  if (method === 'GET' && url.searchParams.get('list-type') === '2') return 'ListObjectsV2';
  return `${method} bucket`;
}
