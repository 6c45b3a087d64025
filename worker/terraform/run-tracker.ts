// Reads Terraform's machine-readable UI (`-json`), one message per line, and
// turns it into what a job reports: a plain-text log, progress, the change
// summary, the plan (addresses and actions only: never values), outputs with
// sensitive values redacted, and diagnostics.
import { stripVTControlCharacters } from 'node:util';
import {
  type ChangeSummary,
  type Diagnostic,
  type JobProgress,
  type Outputs,
  type Plan,
  PLANNED_ACTIONS,
  type PlannedChange,
} from '../../core/schemas/index.ts';

export const REDACTED = '[REDACTED]';

type UiMessage = {
  '@level'?: string;
  '@message'?: string;
  type?: string;
  change?: { action?: string; resource?: { addr?: string } };
  changes?: { add?: number; change?: number; remove?: number; operation?: string };
  outputs?: Record<string, { sensitive?: boolean; type?: unknown; value?: unknown }>;
  diagnostic?: { severity?: string; summary?: string; detail?: string; address?: string };
};

export class RunTracker {
  // Planned operations, data source reads included: what progress counts.
  #operations = 0;
  #completed = 0;
  #total: number | null = null;
  changes: ChangeSummary | undefined;
  #planSummary: ChangeSummary | undefined;
  readonly #planned: PlannedChange[] = [];
  readonly #drift: PlannedChange[] = [];
  outputs: Outputs | undefined;
  readonly diagnostics: Diagnostic[] = [];

  get progress(): JobProgress {
    const completed = this.#total === null ? this.#completed : Math.min(this.#completed, this.#total);
    return { completed, total: this.#total };
  }

  // The plan, once Terraform has summarised it.
  get plan(): Plan | undefined {
    const summary = this.#planSummary;
    if (!summary) return undefined;
    const replace = this.#planned.filter((c) => c.action === 'replace').length;
    return {
      add: summary.add,
      change: summary.change,
      destroy: summary.remove,
      replace,
      resources: byAddress(this.#planned),
      drift: byAddress(this.#drift),
    };
  }

  get errors(): Diagnostic[] {
    return this.diagnostics.filter((d) => d.severity === 'error');
  }

  // Returns the line for the human log, and whether progress moved.
  handle(line: string): { text: string; progressed: boolean } {
    let message: UiMessage;
    try {
      message = JSON.parse(line) as UiMessage;
    } catch {
      return { text: stripVTControlCharacters(line), progressed: false };
    }
    const text = stripVTControlCharacters(message['@message'] ?? '');
    switch (message.type) {
      case 'planned_change': {
        if (message.change?.action !== 'noop') this.#operations += 1;
        const change = plannedChange(message);
        if (change) this.#planned.push(change);
        return { text, progressed: false };
      }
      case 'resource_drift': {
        const change = plannedChange(message);
        if (change) this.#drift.push(change);
        return { text, progressed: false };
      }
      case 'change_summary': {
        const c = message.changes ?? {};
        const summary = { add: c.add ?? 0, change: c.change ?? 0, remove: c.remove ?? 0 };
        if (c.operation === 'plan') {
          this.#planSummary = summary;
          this.#total = Math.max(this.#operations, summary.add + summary.change + summary.remove);
          return { text, progressed: true };
        }
        this.changes = summary;
        if (this.#total !== null) this.#completed = this.#total;
        return { text, progressed: true };
      }
      case 'apply_complete':
      case 'apply_errored':
        this.#completed += 1;
        return { text, progressed: true };
      case 'outputs':
        this.#readOutputs(message.outputs ?? {});
        return { text, progressed: false };
      case 'diagnostic': {
        const d = message.diagnostic ?? {};
        const diagnostic: Diagnostic = {
          severity: d.severity === 'warning' ? 'warning' : 'error',
          summary: stripVTControlCharacters(d.summary ?? text),
          detail: stripVTControlCharacters(d.detail ?? ''),
        };
        if (d.address) diagnostic.address = d.address;
        this.diagnostics.push(diagnostic);
        const heading = `${diagnostic.severity === 'error' ? 'Error' : 'Warning'}: ${diagnostic.summary}`;
        return { text: diagnostic.detail ? `${heading}\n\n${diagnostic.detail}\n` : heading, progressed: false };
      }
      default:
        return { text, progressed: false };
    }
  }

  // The plan announces outputs without values; the final message carries
  // `type` and `value`. Only the latter is kept.
  #readOutputs(outputs: NonNullable<UiMessage['outputs']>): void {
    const entries = Object.entries(outputs);
    if (entries.length > 0 && entries.every(([, o]) => !('type' in o))) return;
    const result: Outputs = {};
    for (const [name, output] of entries) result[name] = output.sensitive ? REDACTED : (output.value ?? null);
    this.outputs = result;
  }
}

// A resource instance and a change Terraform plans for it (or found made
// outside it); noop and data source reads are not changes.
function plannedChange(message: UiMessage): PlannedChange | undefined {
  const action = message.change?.action;
  const address = message.change?.resource?.addr;
  if (address === undefined || !(PLANNED_ACTIONS as readonly string[]).includes(action ?? '')) return undefined;
  return { address, action: action as PlannedChange['action'] };
}

// Terraform reports changes in the order its graph walk reaches them; a plan
// lists them by address (index 2 before index 10).
function byAddress(changes: PlannedChange[]): PlannedChange[] {
  return [...changes].sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }));
}

// Failures worth retrying: the state lock is held, or the network or backend
// let us down. Everything else (invalid configuration, a provider refusing the
// request) would fail the same way again.
const TRANSIENT = [
  /error acquiring the state lock/i,
  /error releasing the state lock/i,
  /connection (refused|reset)/i,
  /i\/o timeout/i,
  /timeout exceeded|deadline exceeded|timed out/i,
  /\bEOF\b/,
  /no such host|temporary failure in name resolution/i,
  /RequestError|SlowDown|ServiceUnavailable|InternalError|Throttl|RequestLimitExceeded/,
  /status code: 5\d\d|StatusCode: 5\d\d/i,
];

export function isTransient(diagnostics: Diagnostic[], stderr: string): boolean {
  const text = [...diagnostics.map((d) => `${d.summary}\n${d.detail}`), stderr].join('\n');
  return TRANSIENT.some((pattern) => pattern.test(text));
}
