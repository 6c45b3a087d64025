// What the events outbox must say of the records beside it, at any moment:
// the scripts write a change and its event together. Checked after every
// test that ran a system, so every scenario of the suite is a test of the
// outbox ("exactly one event per recorded change").
import type { RedisConnection } from '../../core/redis.ts';
import type { Store } from '../../core/store/index.ts';

type Recorded = { stack: { status: string }; job: { id: string; status: string } | null };

// The ways the outbox and the records disagree (empty: none).
export async function eventMismatches(store: Store, redis: RedisConnection, prefix: string): Promise<string[]> {
  const problems: string[] = [];
  const bySubject = new Map<string, Array<{ type: string; sequence: number; data: Recorded }>>();
  for (const entry of await store.outbox.entries()) {
    const list = bySubject.get(entry.subject) ?? [];
    list.push({ type: entry.type, sequence: entry.sequence, data: JSON.parse(entry.data) as Recorded });
    bySubject.set(entry.subject, list);
  }
  for (const [subject, events] of bySubject) {
    const sequences = events.map((e) => e.sequence);
    if (sequences.some((n, i) => n !== i + 1))
      problems.push(`${subject}: sequence ${sequences.join(',')} is not 1..${events.length}`);
    const stackEvents = events.filter(
      (e) => e.type.startsWith('io.tfcompute.stack.') && e.type !== 'io.tfcompute.stack.drifted',
    );
    if (stackEvents[0]?.type !== 'io.tfcompute.stack.creating')
      problems.push(`${subject}: its first stack event is ${stackEvents[0]?.type}, not creating`);
    for (let i = 1; i < stackEvents.length; i += 1) {
      if (stackEvents[i]?.type === stackEvents[i - 1]?.type)
        problems.push(`${subject}: two ${stackEvents[i]?.type} events in a row (a status that did not change)`);
    }
    for (const e of events) {
      const status = e.type.slice(e.type.lastIndexOf('.') + 1);
      if (
        e.type.startsWith('io.tfcompute.stack.') &&
        e.type !== 'io.tfcompute.stack.drifted' &&
        e.data.stack.status !== status
      )
        problems.push(`${subject}: ${e.type} says the stack is ${e.data.stack.status}`);
      if (e.type.startsWith('io.tfcompute.job.') && e.data.job?.status !== status)
        problems.push(`${subject}: ${e.type} says the job is ${e.data.job?.status}`);
    }
    const status = await redis.hget(`${prefix}:res:${subject}`, 'status');
    const last = stackEvents.at(-1);
    if (status !== null && last?.data.stack.status !== status)
      problems.push(`${subject}: the stack is ${status}, its last stack event says ${last?.type}`);
    const lastByJob = new Map<string, string>();
    const runsByJob = new Map<string, number>();
    for (const e of events) {
      if (!e.type.startsWith('io.tfcompute.job.') || !e.data.job) continue;
      lastByJob.set(e.data.job.id, e.data.job.status);
      if (e.type === 'io.tfcompute.job.running') runsByJob.set(e.data.job.id, (runsByJob.get(e.data.job.id) ?? 0) + 1);
    }
    for (const [jobId, said] of lastByJob) {
      const [jobStatus, attempts] = await redis.hmget(`${prefix}:job:${jobId}`, 'status', 'attempts');
      if (jobStatus !== null && jobStatus !== said)
        problems.push(`${subject}: job ${jobId} is ${jobStatus}, its last event says ${said}`);
      // Every attempt was started, and each start is an event.
      if (attempts !== null && Number(attempts) !== (runsByJob.get(jobId) ?? 0))
        problems.push(
          `${subject}: job ${jobId} made ${attempts} attempts, ${runsByJob.get(jobId) ?? 0} running events`,
        );
    }
  }
  for (const member of await redis.zrange(`${prefix}:res:index`, '0', '-1')) {
    const id = member.slice(member.indexOf(':') + 1);
    if (!bySubject.has(id)) problems.push(`${id}: a stack with no events`);
  }
  return problems;
}
