// S3's conditional writes in front of s3rver, which ignores them: a PUT with
// `If-None-Match: *` is refused with 412 when the object exists, and one with
// `If-Match: <etag>` when the object's ETag is another. Terraform's own S3
// lock files (use_lockfile) and the worker's rely on them, as on AWS. Writes
// to one key are serialised here, so the check and the write are one step.
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';

export class ConditionalS3 {
  readonly #target: URL;
  readonly #server: Server;
  readonly #writes = new Map<string, Promise<unknown>>();

  constructor(targetUrl: string) {
    this.#target = new URL(targetUrl);
    this.#server = createServer((req, res) => void this.#handle(req, res));
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

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const noneMatch = req.headers['if-none-match'];
    const match = req.headers['if-match'];
    if (req.method !== 'PUT' || (noneMatch === undefined && match === undefined)) {
      this.#forward(req, res);
      return;
    }
    const key = req.url ?? '';
    const before = this.#writes.get(key) ?? Promise.resolve();
    const turn = before.then(async () => {
      const etag = await this.#etag(req);
      const refused = (noneMatch === '*' && etag !== undefined) || (match !== undefined && match !== etag);
      if (refused) {
        req.resume();
        res.writeHead(412, { 'content-type': 'application/xml' }).end(PRECONDITION_FAILED);
        return;
      }
      await this.#forward(req, res);
    });
    this.#writes.set(
      key,
      turn.catch(() => undefined),
    );
    await turn.catch(() => res.destroy());
  }

  // The object's ETag now, or undefined when there is none.
  async #etag(req: IncomingMessage): Promise<string | undefined> {
    const head = request({
      host: this.#target.hostname,
      port: this.#target.port,
      method: 'HEAD',
      path: req.url,
      headers: { host: req.headers.host },
    });
    head.end();
    const [answer] = (await once(head, 'response')) as [IncomingMessage];
    answer.resume();
    return answer.statusCode === 200 ? String(answer.headers.etag) : undefined;
  }

  // Resolves once the answer has been passed on.
  #forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    const upstream = request(
      { host: this.#target.hostname, port: this.#target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => resolve());
      },
    );
    upstream.on('error', () => {
      res.destroy();
      resolve();
    });
    req.pipe(upstream);
    return promise;
  }
}
