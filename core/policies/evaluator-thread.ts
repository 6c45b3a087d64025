// The thread policies are evaluated in (see evaluate.ts): a rule runs to the
// end of its CPU time on the thread that runs it, so it runs here, where the
// worker can stop it (a regular expression that backtracks for ever, a
// pairwise check over a huge plan) without stopping itself.
import { parentPort, workerData } from 'node:worker_threads';
import { policyEnvironment } from './rule.ts';

export type ThreadInput = { rules: string[]; input: Record<string, unknown> };
// `ready` first, once the thread has loaded; then one result per rule, in order.
export type ThreadMessage = { ready: true } | { index: number; passed: boolean; error: string | null };

const { rules, input } = workerData as ThreadInput;
const environment = policyEnvironment();
parentPort?.postMessage({ ready: true } satisfies ThreadMessage);
for (const [index, rule] of rules.entries()) {
  let result: ThreadMessage;
  try {
    const value: unknown = environment.evaluate(rule, input);
    result =
      typeof value === 'boolean'
        ? { index, passed: value, error: null }
        : {
            index,
            passed: false,
            error: `the rule evaluated to ${typeof value === 'bigint' ? 'an int' : typeof value}, not a bool`,
          };
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    result = { index, passed: false, error: `the rule could not be evaluated: ${message}` };
  }
  parentPort?.postMessage(result);
}
