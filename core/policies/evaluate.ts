// Evaluating the policies that apply to a job on its plan: each rule in a
// thread of its own (evaluator-thread.ts) with a time limit, an error or a
// non-boolean counting as a failure with the error as its message; then the
// job's verdict from the results and their enforcement levels.
import { Worker } from 'node:worker_threads';
import type { JobPolicy, PolicyResult } from '../schemas/index.ts';
import type { ThreadInput, ThreadMessage } from './evaluator-thread.ts';
import { celValue } from './rule.ts';
import type { PolicyRecord } from '../store/policies.ts';

const THREAD = new URL('./evaluator-thread.ts', import.meta.url);
// A rule that builds huge values runs out of this rather than the worker's memory.
const THREAD_MEMORY_MB = 64;
// A thread that has not loaded in this long (a machine under heavy load) is
// given up on: its rules fail, and the job's verdict says so.
const THREAD_START_MS = 30_000;

// What every rule sees (see rule.ts for its CEL types).
export type PolicyInput = {
  stack: { id: string; project: string; template: string; inputs: Record<string, unknown>; created_by: string };
  action: string;
  actor: { name: string; kind: string };
  plan: {
    add: number;
    change: number;
    destroy: number;
    replace: number;
    resources: Array<{ address: string; type: string; action: string; after: Record<string, unknown> }>;
  };
};

// Evaluates `policies` on `input`; each rule has `timeoutMs` to finish.
export async function evaluatePolicies(
  policies: readonly PolicyRecord[],
  input: PolicyInput,
  timeoutMs: number,
): Promise<PolicyResult[]> {
  const outcomes = await runRules(
    policies.map((p) => p.rule),
    celValue(input) as Record<string, unknown>,
    timeoutMs,
  );
  return policies.map((policy, index) => {
    const outcome = outcomes[index] ?? { passed: false, error: 'the rule was not evaluated' };
    return {
      policy: { id: policy.id, name: policy.name },
      enforcement: policy.enforcement,
      passed: outcome.passed,
      message: outcome.passed ? '' : outcome.error === null ? policy.message : `${policy.message} (${outcome.error})`,
    };
  });
}

// The job's verdict: a mandatory failure fails it, advisory ones are noted.
export function verdict(results: readonly PolicyResult[]): JobPolicy['status'] {
  const failed = results.filter((result) => !result.passed);
  if (failed.some((result) => result.enforcement !== 'advisory')) return 'failed';
  return failed.length > 0 ? 'advisory_failed' : 'passed';
}

type Outcome = { passed: boolean; error: string | null };

// Runs the rules in order in one thread; a rule past its time is stopped
// with its thread, and those after it run in a new one.
async function runRules(
  rules: readonly string[],
  input: Record<string, unknown>,
  timeoutMs: number,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  while (outcomes.length < rules.length) {
    const from = outcomes.length;
    await new Promise<void>((resolve) => {
      const thread = new Worker(THREAD, {
        workerData: { rules: rules.slice(from), input } satisfies ThreadInput,
        resourceLimits: { maxOldGenerationSizeMb: THREAD_MEMORY_MB },
        stdout: true,
        stderr: true,
      });
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      // The rule in flight fails with `error`; the thread goes.
      const stop = (error: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (outcomes.length < rules.length) outcomes.push({ passed: false, error });
        void thread.terminate().finally(resolve);
      };
      // Each rule's time starts when the one before it finished.
      const arm = (ms: number, error: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => stop(error), ms);
      };
      const timeLimit = `the rule was stopped at the time limit of ${timeoutMs} ms`;
      arm(THREAD_START_MS, 'the rule could not be evaluated: its thread did not start');
      thread.on('message', (message: ThreadMessage) => {
        if ('ready' in message) return arm(timeoutMs, timeLimit);
        outcomes.push({ passed: message.passed, error: message.error });
        if (outcomes.length === rules.length) stop('');
        else arm(timeoutMs, timeLimit);
      });
      thread.on('error', (error) => stop(`the rule could not be evaluated: ${error.message}`));
      thread.on('exit', () => stop('the rule could not be evaluated: its evaluation stopped'));
    });
  }
  return outcomes;
}
