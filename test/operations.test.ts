// What an operator does with running work: cancel it, follow its log live,
// let a stack destroy itself when its ttl runs out, read the metrics, and
// stop the API without cutting requests off.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TOKENS, useSystems, type TestSystem } from './support/harness.ts';

const [startSystem] = useSystems();

type SseEvent = { event: string; id?: string; data: string; at: number };

// Reads a Server-Sent Events stream to its end, noting when each event came.
async function readEvents(system: TestSystem, path: string, headers: Record<string, string> = {}): Promise<SseEvent[]> {
  const response = await fetch(`${system.baseUrl}${path}`, {
    headers: { Accept: 'text/event-stream', Authorization: `Bearer ${TOKENS.reader}`, ...headers },
    signal: AbortSignal.timeout(60_000),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: SseEvent[] = [];
  let buffer = '';
  for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(':')) continue;
      const event: SseEvent = { event: 'message', data: '', at: Date.now() };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        const [field, ...rest] = line.split(': ');
        const value = rest.join(': ');
        if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
        else if (field === 'data') data.push(value);
      }
      event.data = data.join('\n');
      events.push(event);
    }
  }
  return events;
}

describe('cancel', () => {
  test('a queued job is removed at once: the create is cancelled, the stack failed, and DELETE then cleans up', async () => {
    const system = await startSystem({ fixture: 'ok' });
    const created = await system.http().post('/api/ec2instance').send({});
    const cancelled = await system.http(TOKENS.writer).post(`/api/jobs/${created.body.job.id}/cancel`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    const stack = await system.stack(created.body.id);
    assert.equal(stack.status, 'failed');
    assert.equal(stack.job.status, 'cancelled');
    assert.match(stack.error?.message ?? '', /cancelled on request/);
    assert.equal(
      (await system.http().post(`/api/jobs/${created.body.job.id}/cancel`)).status,
      409,
      'a finished job cannot be cancelled',
    );

    await system.startWorker();
    const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`).set('Prefer', 'wait=60');
    assert.equal(deleted.body.status, 'deleted');
    assert.equal((await system.store.jobs.get(created.body.job.id))?.attempts, 0, 'the cancelled create never ran');
  });

  test('a running apply gets one SIGINT, stops after the operation in flight, saves state, and DELETE destroys what it made', async () => {
    const system = await startSystem({ fixture: 'slow', worker: true, env: { TF_VAR_sleep_seconds: '30' } });
    const created = await system.http().post('/api/ec2instance').send({ node_count: 2 });
    const jobId = created.body.job.id as string;
    await system.waitForLog(jobId, /Provisioning with 'local-exec'/);
    const started = Date.now();
    const cancelled = await system.http().post(`/api/jobs/${jobId}/cancel`);
    assert.equal(cancelled.status, 202);
    assert.equal(cancelled.body.status, 'running');

    const job = await system.waitForJob(jobId);
    assert.equal(job.status, 'cancelled');
    assert.ok(Date.now() - started < 10_000, 'Terraform stopped well before the apply would have finished');
    assert.equal(job.attempts, 1, 'not retried');
    const stack = await system.stack(created.body.id);
    assert.equal(stack.status, 'failed');
    assert.match(stack.error?.message ?? '', /cancelled on request/);
    const log = await system.store.logs.get(jobId);
    assert.match(log, /Interrupt received|Stopping operation/i);
    // The provisioner was stopped, so Terraform saved the instances as tainted.
    assert.equal(
      (await system.stateAddresses(created.body.id)).length,
      2,
      'the state holds what was made before the stop',
    );
    assert.deepEqual(await system.services.backend.lockHolders(), [], 'the state lock was released');

    const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`).set('Prefer', 'wait=60');
    assert.equal(deleted.body.status, 'deleted');
    assert.equal(await system.stateObjectStatus(created.body.id), 404);
  });
});

describe('live logs', () => {
  test('GET /log with Accept: text/event-stream streams the log while the job runs, then an end event', async () => {
    const system = await startSystem({ fixture: 'slow', worker: true, env: { TF_VAR_sleep_seconds: '1' } });
    const created = await system.http().post('/api/ec2instance').send({ node_count: 2 });
    const jobId = created.body.job.id as string;
    const events = await readEvents(system, `/api/jobs/${jobId}/log`);
    const job = await system.store.jobs.get(jobId);
    assert.equal(job?.status, 'succeeded');

    const end = events.at(-1);
    assert.equal(end?.event, 'end');
    assert.deepEqual(JSON.parse(end?.data ?? '{}'), { status: 'succeeded' });
    const logs = events.filter((e) => e.event === 'log');
    assert.ok(logs.length >= 2, 'the log came in several parts');
    const finishedAt = Date.parse(job?.finished_at ?? '');
    assert.ok(logs[0]!.at < finishedAt - 500, 'the first part came while the job was still running');
    const streamed = `${logs.map((e) => e.data).join('\n')}\n`;
    assert.equal(streamed, await system.store.logs.get(jobId), 'the stream is the whole log, in order');

    // A client that reconnects with Last-Event-ID gets only the rest.
    const offset = logs[0]!.id!;
    const resumed = await readEvents(system, `/api/jobs/${jobId}/log`, { 'Last-Event-ID': offset });
    const rest = resumed
      .filter((e) => e.event === 'log')
      .map((e) => e.data)
      .join('\n');
    assert.equal(
      `${rest}\n`,
      Buffer.from(await system.store.logs.get(jobId))
        .subarray(Number(offset))
        .toString(),
    );

    const plain = await system.http().get(`/api/jobs/${jobId}/log`);
    assert.match(plain.headers['content-type'] ?? '', /^text\/plain/);
  });
});

describe('ttl', () => {
  test('a stack created with a ttl is destroyed by itself when it runs out', async () => {
    const system = await startSystem({ fixture: 'ok', worker: true });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ ttl: '3s' });
    assert.equal(created.status, 201);
    const expiresAt = Date.parse(created.body.expires_at);
    assert.ok(Math.abs(expiresAt - (Date.parse(created.body.created_at) + 3_000)) < 1_000);
    const deleted = await system.waitForStackStatus(created.body.id, 'deleted', 30_000);
    assert.ok(Date.now() >= expiresAt - 100, 'not before it expired');
    assert.equal(deleted.job.action, 'delete');
    assert.equal(await system.stateObjectStatus(created.body.id), 404);
  });

  test('a ttl that is not a duration, or over 90 days, is refused', async () => {
    const system = await startSystem();
    for (const ttl of ['0s', '2 h', '2w', '91d', 3600, '']) {
      const res = await system.http().post('/api/ec2instance').send({ ttl });
      assert.equal(res.status, 400, String(ttl));
      assert.equal(res.body.errors[0].path, 'ttl');
    }
  });
});

describe('metrics', () => {
  test('/metrics reports request latency by route, queue depth, job durations and resources by status', async () => {
    const system = await startSystem({ fixture: 'ok', worker: true });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    assert.equal(created.status, 201);
    await system.http().get(`/api/ec2instance/${created.body.id}`);
    await system.http().post('/api/ec2instance').send({ node_count: 99 });
    const text = (await system.http().get('/metrics')).text;
    assert.match(
      text,
      /tfcompute_http_request_duration_seconds_count\{method="GET",route="\/api\/ec2instance\/:id",status="200"\} 1/,
    );
    assert.match(
      text,
      /tfcompute_http_request_duration_seconds_count\{method="POST",route="\/api\/ec2instance",status="400"\} 1/,
    );
    assert.match(text, /tfcompute_job_duration_seconds_count\{action="create",outcome="succeeded"\} 1/);
    assert.match(text, /tfcompute_job_duration_seconds_bucket\{action="create",outcome="succeeded",le="\+Inf"\} 1/);
    assert.match(text, /tfcompute_resources\{status="ready"\} 1/);
    assert.match(text, /tfcompute_queue_jobs\{state="waiting"\} \d+/);
    assert.doesNotMatch(text, new RegExp(created.body.id), 'ids never become label values');
  });
});

describe('API shutdown', () => {
  test('stopping the API answers waiting requests with what they have, closes live logs, and refuses new connections', async () => {
    const system = await startSystem();
    const base = system.baseUrl;
    // supertest sends a request only once it is awaited or then()ed.
    const waiting = system
      .http()
      .post('/api/ec2instance')
      .set('Prefer', 'wait=120')
      .send({})
      .then((res) => res);
    const created = await system.http().post('/api/ec2instance').send({});
    const live = await fetch(`${base}/api/jobs/${created.body.job.id}/log`, {
      headers: { Accept: 'text/event-stream', Authorization: `Bearer ${TOKENS.admin}` },
    });
    const stream = live.text();
    // Both requests are in once both resources are recorded.
    while ((await system.store.stacks.count()) < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await system.api!.stop();
    assert.ok(Date.now() - started < 5_000, 'stopped promptly');
    const answered = await waiting;
    assert.equal(answered.status, 202, 'the waiting request got the resource as it was');
    assert.equal(answered.body.status, 'creating');
    await stream;
    await assert.rejects(fetch(`${base}/healthz`), 'no new connections');
  });
});
