// Bounded work and answers that say no more than they should (issue 21, the
// API's part): failed authentication limited per client address, requests
// held open capped per token, open connections capped, /metrics behind its own
// token, webhook refusals that are no DNS oracle, SSE lines that cannot be
// forged, the insecure local mode's Host check, and resource_id kept the
// service's own.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, test } from 'node:test';
import request from 'supertest';
import { startApi } from '../api/server.ts';
import { loadConfig } from '../core/config.ts';
import { assertProblem, TOKENS, useSystems, type TestSystem } from './support/harness.ts';
import { captureLogs } from './support/log-capture.ts';
import { EVENTS_ENV } from './support/receiver.ts';

const [startSystem] = useSystems();

// A GET sent from `localAddress` (any 127.x.y.z is this machine), so one test
// can be two clients.
function getFrom(
  system: TestSystem,
  localAddress: string,
  path: string,
  token?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    http
      .get(`${system.baseUrl}${path}`, { localAddress, headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      })
      .on('error', reject);
  });
}

// Opens a live log on a connection of its own and resolves once its headers
// have come; abort() hangs up.
function openLiveLog(
  system: TestSystem,
  jobId: string,
  token: string = TOKENS.admin,
): Promise<{ status: number; text(): Promise<string>; abort(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${system.baseUrl}/api/jobs/${jobId}/log`,
      { headers: { Accept: 'text/event-stream', Authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        const body = text(res);
        body.catch(() => undefined);
        resolve({ status: res.statusCode ?? 0, text: () => body, abort: () => req.destroy() });
      },
    );
    req.on('error', reject);
  });
}

async function text(stream: AsyncIterable<Buffer>): Promise<string> {
  let all = '';
  for await (const chunk of stream) all += chunk.toString();
  return all;
}

// Asks again at once while the answer is a 429 (the server has not yet seen
// the held request close), up to a deadline.
async function servedWithin(ms: number, ask: () => Promise<{ status: number }>): Promise<{ status: number }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await ask();
    if (res.status !== 429 || Date.now() > deadline) return res;
  }
}

// An SSE stream parsed as the specification says: lines end at CRLF, CR or LF.
function parseSse(text: string): Array<{ event: string; data: string[] }> {
  const events: Array<{ event: string; data: string[] }> = [];
  let current = { event: 'message', data: [] as string[] };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (current.data.length > 0) events.push(current);
      current = { event: 'message', data: [] };
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') current.event = value;
    else if (field === 'data') current.data.push(value);
  }
  return events;
}

describe('requests that fail authentication, per client address', () => {
  test('an address over its budget of failed authentications gets 429 before its token is read; valid requests do not count, other addresses go on', async () => {
    const system = await startSystem({ env: { RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '3' } });
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await getFrom(system, '127.0.0.1', '/api/ec2instance', TOKENS.admin)).status,
        200,
        'authenticated requests are not counted',
      );
    for (const token of ['not-a-token-at-all-0123456789', undefined, 'not-a-token-at-all-0123456789']) {
      assert.equal((await getFrom(system, '127.0.0.1', '/api/ec2instance', token)).status, 401);
    }
    for (const token of ['not-a-token-at-all-0123456789', undefined, TOKENS.admin]) {
      const res = await request(system.baseUrl)
        .get('/api/ec2instance')
        .set(token ? { Authorization: `Bearer ${token}` } : {});
      assertProblem(res, 429, 'rate-limited');
      assert.ok(
        Number(res.headers['retry-after']) >= 1 && Number(res.headers['retry-after']) <= 60,
        res.headers['retry-after'],
      );
    }
    assert.equal(
      (await getFrom(system, '127.0.0.2', '/api/ec2instance', TOKENS.admin)).status,
      200,
      'another address is not limited',
    );
    assert.equal((await getFrom(system, '127.0.0.2', '/api/ec2instance')).status, 401, 'and has its own budget');
  });
});

describe('requests held open, per token', () => {
  test('a token holding MAX_HELD_REQUESTS open gets 429 at once for one more, and nothing is done for it; another token is served', async () => {
    const system = await startSystem({ env: { MAX_HELD_REQUESTS: '1' } });
    const created = await system.http().post('/api/ec2instance').send({});
    const held = await openLiveLog(system, created.body.job.id);
    assert.equal(held.status, 200);

    const started = Date.now();
    assertProblem(
      await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({}),
      429,
      'too-many-held-requests',
    );
    assert.ok(Date.now() - started < 1_000, 'at once');
    assert.equal(await system.store.stacks.count(), 1, 'the refused create made no stack');
    const second = await openLiveLog(system, created.body.job.id);
    assert.equal(second.status, 429);
    assert.equal(JSON.parse(await second.text()).code, 'too-many-held-requests');
    assert.equal(
      (await system.http().get(`/api/jobs/${created.body.job.id}`)).status,
      200,
      'requests that are not held are served',
    );

    const other = await openLiveLog(system, created.body.job.id, TOKENS.reader);
    assert.equal(other.status, 200, "another token's requests are its own");
    other.abort();
    held.abort();
  });

  test('a held request gives its place back when it is answered and when its client hangs up', async () => {
    const system = await startSystem({ env: { MAX_HELD_REQUESTS: '1' } });
    const first = (await system.http().post('/api/ec2instance').send({})).body;
    const second = (await system.http().post('/api/ec2instance').send({})).body;

    const answered = await openLiveLog(system, first.job.id);
    assert.equal((await openLiveLog(system, second.job.id)).status, 429, 'its place is taken while it is open');
    assert.equal((await system.http().post(`/api/jobs/${first.job.id}/cancel`)).status, 200);
    assert.match(await answered.text(), /event: end/, 'the stream ended with the job');
    const next = await openLiveLog(system, second.job.id);
    assert.equal(next.status, 200, 'the answered request gave its place back');

    assertProblem(
      await system.http().delete(`/api/ec2instance/${second.id}`).set('Prefer', 'wait=5'),
      429,
      'too-many-held-requests',
    );
    next.abort();
    const afterHangUp = await servedWithin(5_000, () =>
      system.http().delete(`/api/ec2instance/${second.id}`).set('Prefer', 'wait=5'),
    );
    assert.equal(afterHangUp.status, 200, 'the request whose client hung up gave its place back');
  });
});

describe('open connections', () => {
  test('a connection over MAX_CONNECTIONS is closed at once, unanswered, and the open ones are served', async () => {
    const system = await startSystem({ env: { MAX_CONNECTIONS: '2' } });
    const port = system.api!.port;
    const open = async () => {
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    const ask = (socket: net.Socket) =>
      new Promise<string>((resolve) => {
        let answer = '';
        socket.on('data', (chunk) => {
          answer += chunk.toString();
          if (/\r\n\r\n[\s\S]*ok/.test(answer)) resolve(answer);
        });
        socket.on('close', () => resolve(answer));
        socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      });
    const kept = [await open(), await open()];
    for (const socket of kept) assert.match(await ask(socket), /^HTTP\/1\.1 200/);
    const third = await open();
    assert.equal(await ask(third), '', 'closed without an answer');
    assert.match(await ask(kept[0]!), /^HTTP\/1\.1 200/, 'an open connection is still served');
    for (const socket of [...kept, third]) socket.destroy();
  });
});

describe('/metrics', () => {
  test('with METRICS_TOKEN set, /metrics answers 401 without it, with a wrong one or an API token, and 200 with it', async () => {
    const metricsToken = 'metrics-token-0123456789abcdefgh';
    const system = await startSystem({ env: { METRICS_TOKEN: metricsToken } });
    for (const authorization of [undefined, `Bearer ${metricsToken}x`, `Bearer ${TOKENS.admin}`, metricsToken]) {
      const res = await request(system.baseUrl)
        .get('/metrics')
        .set(authorization ? { Authorization: authorization } : {});
      assertProblem(res, 401, 'unauthorized');
      assert.match(res.headers['www-authenticate'] ?? '', /^Bearer/);
    }
    const res = await request(system.baseUrl).get('/metrics').set('Authorization', `Bearer ${metricsToken}`);
    assert.equal(res.status, 200);
    assert.match(res.text, /tfcompute_resources/);
  });
});

describe('webhook addresses', () => {
  test('a name that resolves to a refused address, or to none, is refused without saying what it resolved to; the log says, with the request id', async () => {
    const system = await startSystem();
    const captured = captureLogs();
    const api = await startApi(
      loadConfig({ ...system.env, ...EVENTS_ENV, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', LOG_LEVEL: 'info' }),
      captured.logger(),
    );
    try {
      const details = [];
      for (const host of ['localhost', 'no-such-host.invalid']) {
        const res = await request(`http://127.0.0.1:${api.port}`)
          .post('/api/webhooks')
          .set('Authorization', `Bearer ${TOKENS.admin}`)
          .set('X-Request-Id', `refused-${host}`)
          .send({ url: `http://${host}:8080/hook` });
        assertProblem(res, 400, 'validation-failed');
        assert.doesNotMatch(
          res.text,
          /127\.0\.0\.1|::1|\b\d{1,3}(\.\d{1,3}){3}\b|ENOTFOUND|loopback address/,
          'no address, nor whether the name exists',
        );
        details.push(res.body.detail.replace(host, 'HOST'));
      }
      assert.equal(details[0], details[1], 'a refused name and an unknown one get the same answer');
      const logged = captured
        .text()
        .split('\n')
        .filter((line) => line.includes('webhook url refused'))
        .map((line) => JSON.parse(line));
      assert.ok(
        logged.some((entry) => entry.requestId === 'refused-localhost' && /127\.0\.0\.1|::1/.test(entry.resolved)),
        captured.text(),
      );
    } finally {
      await api.stop();
    }
  });

  test('IPv4-compatible IPv6 addresses (::/96) are refused', async () => {
    const system = await startSystem({ env: { ...EVENTS_ENV, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
    for (const url of [
      'http://[::7f00:1]/hook',
      'http://[::a00:1]/hook',
      'http://[::127.0.0.1]:8080/hook',
      'http://[::a9fe:a9fe]/latest/meta-data',
    ]) {
      const res = await system.http().post('/api/webhooks').send({ url });
      assertProblem(res, 400, 'validation-failed');
      assert.match(res.body.detail, /IPv4-compatible/, url);
    }
    assert.deepEqual((await system.http().get('/api/webhooks')).body.items, []);
  });
});

describe('live log lines', () => {
  test('a log with CR and CRLF line endings streams as separate data lines; no line becomes an event of its own', async () => {
    const system = await startSystem();
    const created = await system.http().post('/api/ec2instance').send({});
    const jobId = created.body.job.id as string;
    await system.store.logs.append(
      jobId,
      'Plan: 1 to add\r\nevent: end\rdata: {"status":"succeeded"}\r\nid: 999999\rprogress 50%\rprogress 100%\n',
    );
    assert.equal((await system.http().post(`/api/jobs/${jobId}/cancel`)).status, 200);

    const response = await fetch(`${system.baseUrl}/api/jobs/${jobId}/log`, {
      headers: { Accept: 'text/event-stream', Authorization: `Bearer ${TOKENS.reader}` },
    });
    const events = parseSse(await response.text());
    assert.deepEqual(events, [
      {
        event: 'log',
        data: [
          'Plan: 1 to add',
          'event: end',
          'data: {"status":"succeeded"}',
          'id: 999999',
          'progress 50%',
          'progress 100%',
        ],
      },
      { event: 'end', data: ['{"status":"cancelled"}'] },
    ]);
  });
});

describe('the insecure local mode', () => {
  test('only loopback Host names are served; another Host (DNS rebinding) is 421 and does nothing', async () => {
    const system = await startSystem();
    const { API_TOKENS: _, ...env } = system.env;
    const api = await startApi(
      loadConfig({ ...env, AUTH_MODE: 'insecure-local', HOST: '127.0.0.1' }),
      captureLogs().logger(),
    );
    try {
      const base = `http://127.0.0.1:${api.port}`;
      for (const host of [`localhost:${api.port}`, 'LOCALHOST', `127.0.0.1:${api.port}`, `[::1]:${api.port}`]) {
        assert.equal((await request(base).get('/api/ec2instance').set('Host', host)).status, 200, host);
      }
      for (const host of [`rebound.example:${api.port}`, 'localhost.example', '127.0.0.1.nip.io', '10.0.0.1']) {
        assertProblem(
          await request(base).post('/api/ec2instance').set('Host', host).send({}),
          421,
          'host-not-loopback',
        );
      }
      assert.equal(await system.store.stacks.count(), 0);
    } finally {
      await api.stop();
    }
  });
});

describe('resource_id', () => {
  test('an input named resource_id is refused by the API, and a queued one does not reach Terraform', async () => {
    const system = await startSystem({ worker: true });
    assertProblem(
      await system.http().post('/api/ec2instance').send({ resource_id: 'aaaaaaaaaaaaaaaa' }),
      400,
      'validation-failed',
    );
    const ready = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    assert.equal(ready.status, 201);
    const patched = await system
      .http()
      .patch(`/api/ec2instance/${ready.body.id}`)
      .send({ inputs: { resource_id: 'aaaaaaaaaaaaaaaa' } });
    assert.equal(patched.status, 400, JSON.stringify(patched.body));

    // A job queued with one anyway (an older API, a hand-made job).
    const id = 'bbbbbbbbbbbbbbbb';
    const jobId = 'jbbbbbbbbbbbbbbb';
    await system.queueCreateByHand({
      id,
      jobId,
      maxAttempts: 1,
      extraJobInputs: { resource_id: 'aaaaaaaaaaaaaaaa' },
    });
    assert.equal((await system.waitForJob(jobId)).status, 'succeeded');
    assert.equal((await system.stack(id)).outputs?.resource_id, id);
  });
});

describe('Swagger UI', () => {
  test('does not keep the token in localStorage', async () => {
    const system = await startSystem();
    const init = await request(system.baseUrl).get('/swagger/swagger-ui-init.js');
    assert.equal(init.status, 200);
    assert.match(init.text, /"persistAuthorization": false/);
  });
});
