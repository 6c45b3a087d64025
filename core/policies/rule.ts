// A policy's rule: a CEL expression (@marcbachmann/cel-js), compiled and
// type-checked against the one input every policy sees, and bounded in cost
// before it is ever stored. The API checks rules with this when they are
// written; the evaluator thread (evaluator-thread.ts) runs them.
import { Environment, parse } from '@marcbachmann/cel-js';
import { AppError } from '../errors.ts';

// Structural bounds, checked as the rule is parsed: a rule past them is
// refused with the position where it went over.
const LIMITS = { maxAstNodes: 400, maxDepth: 24, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 8 };
// The cost limit: comprehensions (all, exists, exists_one, map, filter)
// nested deeper than this are refused, as each level multiplies the work by
// the size of a list (a plan's resources): two levels is a pairwise check.
export const MAX_COMPREHENSION_NESTING = 2;
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

// The input, as CEL types: what a rule may name. `inputs` and `after` hold
// whatever the template's variables and the provider's attributes are.
export function policyEnvironment(): Environment {
  return new Environment({ limits: LIMITS })
    .registerType('PlannedResource', {
      fields: { address: 'string', type: 'string', action: 'string', after: 'map<string, dyn>' },
    })
    .registerVariable({
      name: 'stack',
      schema: { id: 'string', project: 'string', template: 'string', inputs: 'map<string, dyn>', created_by: 'string' },
    })
    .registerVariable('action', 'string')
    .registerVariable({ name: 'actor', schema: { name: 'string', kind: 'string' } })
    .registerVariable({
      name: 'plan',
      schema: { add: 'int', change: 'int', destroy: 'int', replace: 'int', resources: 'list<PlannedResource>' },
    });
}

const environment = policyEnvironment();

type CelError = Error & { summary?: string; range?: { start: number; end: number } };

// Throws the 400 of a rule that does not parse, type-check, return a bool
// (when its type is known: a `dyn` one is checked as it runs), or stay
// within the cost limit; the problem names the error and its position.
export function checkRule(rule: string): void {
  let checked: ReturnType<Environment['check']>;
  try {
    checked = environment.check(rule);
  } catch (error) {
    throw invalid(rule, error as CelError);
  }
  if (!checked.valid) throw invalid(rule, checked.error as CelError);
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw invalidAt(rule, `the rule evaluates to ${checked.type}, not bool`, 0);
  }
  const nesting = comprehensionNesting(parse(rule).ast);
  if (nesting.depth > MAX_COMPREHENSION_NESTING) {
    throw invalidAt(
      rule,
      `cost limit: comprehensions nest ${nesting.depth} deep; at most ${MAX_COMPREHENSION_NESTING} are allowed`,
      nesting.at,
    );
  }
}

function invalid(rule: string, error: CelError): AppError {
  return invalidAt(rule, error.summary ?? error.message.split('\n')[0] ?? 'invalid rule', error.range?.start ?? 0);
}

// `offset`: 0-based, in characters; the problem gives line and column, 1-based.
function invalidAt(rule: string, message: string, offset: number): AppError {
  const before = rule.slice(0, offset).split('\n');
  const line = before.length;
  const column = (before.at(-1)?.length ?? 0) + 1;
  return new AppError('invalid-policy-rule', `rule: ${message} (line ${line}, column ${column})`, {
    errors: [{ path: 'rule', message: `${message} at line ${line}, column ${column}` }],
  });
}

type AstNode = { op: string; args: unknown; start?: number };

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && 'op' in value && typeof (value as AstNode).op === 'string';
}

// The deepest nesting of comprehension macros, and where the deepest starts.
function comprehensionNesting(node: unknown): { depth: number; at: number } {
  if (Array.isArray(node)) {
    return node.reduce<{ depth: number; at: number }>(
      (deepest, item) => {
        const found = comprehensionNesting(item);
        return found.depth > deepest.depth ? found : deepest;
      },
      { depth: 0, at: 0 },
    );
  }
  if (!isNode(node)) return { depth: 0, at: 0 };
  const inner = comprehensionNesting(node.args);
  const args = node.args as unknown[];
  const isComprehension = node.op === 'rcall' && Array.isArray(args) && COMPREHENSIONS.has(args[0] as string);
  if (!isComprehension) return inner;
  return inner.depth === 0 ? { depth: 1, at: node.start ?? 0 } : { depth: inner.depth + 1, at: node.start ?? 0 };
}

// JSON's numbers as CEL compares them with the literals written in a rule:
// a whole number becomes an int (BigInt), so `stack.inputs.node_count <= 2`
// and `+ 1` work as written; others stay double.
export function celValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(celValue);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, celValue(item)]));
  return value;
}
