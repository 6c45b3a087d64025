// The translation of a variable's validation condition, part by part: each
// part of a shape constraints.ts lists becomes a piece, the constraints it
// puts on the variable or on its elements or keys (its path); a part in any
// other shape marks the translation partial.
import type { Constraints } from './manifest.ts';
import { type AstNode, constant } from './hcl-ast.ts';
import { portablePattern } from './portable-pattern.ts';

export type Path = Array<'elements' | 'keys'>;
type Piece = { path: Path; constraints: Constraints };
type Scope = ReadonlyMap<string, Path>;

const COMPARISONS: Record<
  string,
  { flipped: string; bound: (n: number) => Constraints; length: (n: number) => Constraints }
> = {
  greaterThan: {
    flipped: 'lessThan',
    bound: (n) => ({ exclusiveMinimum: n }),
    length: (n) => ({ minLength: Math.floor(n) + 1 }),
  },
  greaterThanOrEqual: {
    flipped: 'lessThanOrEqual',
    bound: (n) => ({ minimum: n }),
    length: (n) => ({ minLength: Math.ceil(n) }),
  },
  lessThan: {
    flipped: 'greaterThan',
    bound: (n) => ({ exclusiveMaximum: n }),
    length: (n) => ({ maxLength: Math.ceil(n) - 1 }),
  },
  lessThanOrEqual: {
    flipped: 'greaterThanOrEqual',
    bound: (n) => ({ maximum: n }),
    length: (n) => ({ maxLength: Math.floor(n) }),
  },
  equal: {
    flipped: 'equal',
    bound: (n) => ({ enum: [n] }),
    length: (n) => (Number.isInteger(n) ? { minLength: n, maxLength: n } : { maxLength: -1 }),
  },
};
export class Translator {
  readonly #variable: string;
  // Some part of the condition was left to Terraform.
  partial = false;

  constructor(variable: string) {
    this.#variable = variable;
  }

  async pieces(node: AstNode, scope: Scope): Promise<Piece[]> {
    const pieces = await this.#piecesOf(node, scope);
    if (pieces.length === 0) this.partial = true;
    return pieces;
  }

  async #piecesOf(node: AstNode, scope: Scope): Promise<Piece[]> {
    const [a, b] = node.children;
    if (node.type === 'binaryOp' && node.meta?.operator === 'logicalAnd' && a && b) {
      return [...(await this.pieces(a, scope)), ...(await this.pieces(b, scope))];
    }
    if (node.type === 'binaryOp' && a && b) return this.#comparison(node.meta?.operator ?? '', a, b, scope);
    if (node.type === 'unaryOp' && node.meta?.operator === 'logicalNot' && a) {
      const match = await this.#regexMatch(a, scope);
      return match ? [{ path: match.path, constraints: { notPatterns: [match.pattern] } }] : [];
    }
    if (node.type !== 'function') return [];
    const fn = node.meta?.name;
    if (fn === 'can') {
      const match = await this.#regexMatch(node, scope);
      return match ? [{ path: match.path, constraints: { patterns: [match.pattern] } }] : [];
    }
    if (fn === 'contains' && a && b && a.type === 'tuple') {
      const path = this.subject(b, scope);
      const values = await constant(a.meta?.value ?? '');
      if (!path || !values || !Array.isArray(values.value) || !values.value.every(isPrimitive)) return [];
      return [{ path, constraints: { enum: values.value } }];
    }
    if (fn === 'alltrue' && a?.type === 'for' && node.children.length === 1) return this.#forAll(a, scope);
    return [];
  }

  // `var.x == null` (either way round).
  isNullCheck(node: AstNode, scope: Scope): boolean {
    const [a, b] = node.children;
    if (node.type !== 'binaryOp' || node.meta?.operator !== 'equal' || !a || !b) return false;
    const isNull = (n: AstNode) => n.type === 'literalValue' && n.meta?.value === 'null';
    return (isNull(b) && this.subject(a, scope)?.length === 0) || (isNull(a) && this.subject(b, scope)?.length === 0);
  }

  // The path of the value an expression names: [] for var.<variable>, or a
  // loop variable's path inside alltrue([for ...]).
  subject(node: AstNode, scope: Scope): Path | undefined {
    if (node.type !== 'scopeTraversal') return undefined;
    const accessor = node.meta?.fullAccessor;
    if (accessor === `var.${this.#variable}`) return [];
    return typeof accessor === 'string' ? scope.get(accessor) : undefined;
  }

  async #comparison(operator: string, a: AstNode, b: AstNode, scope: Scope): Promise<Piece[]> {
    if (operator === 'equal' && (this.#isFloorOf(a, b, scope) || this.#isFloorOf(b, a, scope))) {
      return [{ path: this.subject(a.type === 'function' ? b : a, scope) ?? [], constraints: { integer: true } }];
    }
    if (operator === 'equal') {
      const path = this.#distinctLowerKeys(a, b, scope) ?? this.#distinctLowerKeys(b, a, scope);
      if (path) return [{ path, constraints: { distinctKeysIgnoringCase: true } }];
    }
    const comparison = COMPARISONS[operator];
    if (!comparison) return [];
    let [left, right, op] = [a, b, operator];
    if (await number(left)) [left, right, op] = [b, a, comparison.flipped];
    const n = await number(right);
    const shape = COMPARISONS[op];
    if (n === undefined || !shape) return [];
    const path = this.subject(left, scope);
    if (path) return [{ path, constraints: shape.bound(n) }];
    const [argument] = left.children;
    if (left.type === 'function' && left.meta?.name === 'length' && left.children.length === 1 && argument) {
      const lengthOf = this.subject(argument, scope);
      if (lengthOf) return [{ path: lengthOf, constraints: shape.length(n) }];
    }
    return [];
  }

  // `length(distinct([for k in keys(M) : lower(k)]))` beside `length(M)`: M's path.
  #distinctLowerKeys(distinctLength: AstNode, mapLength: AstNode, scope: Scope): Path | undefined {
    const isLength = (n: AstNode | undefined) =>
      n?.type === 'function' && n.meta?.name === 'length' && n.children.length === 1;
    if (!isLength(distinctLength) || !isLength(mapLength)) return undefined;
    const map = this.subject(mapLength.children[0] as AstNode, scope);
    const distinct = distinctLength.children[0];
    if (!map || distinct?.type !== 'function' || distinct.meta?.name !== 'distinct' || distinct.children.length !== 1)
      return undefined;
    const loop = distinct.children[0];
    const [collection, body, ...rest] = loop?.children ?? [];
    if (
      loop?.type !== 'for' ||
      !collection ||
      !body ||
      rest.length > 0 ||
      (typeof loop.meta?.keyVar === 'string' && loop.meta.keyVar !== '')
    )
      return undefined;
    const [keysOf] = collection.children;
    if (
      collection.type !== 'function' ||
      collection.meta?.name !== 'keys' ||
      collection.children.length !== 1 ||
      !keysOf
    )
      return undefined;
    if (this.subject(keysOf, scope)?.join() !== map.join()) return undefined;
    const [lowered] = body.children;
    if (
      body.type !== 'function' ||
      body.meta?.name !== 'lower' ||
      body.children.length !== 1 ||
      lowered?.meta?.fullAccessor !== loop.meta?.valVar
    )
      return undefined;
    return map;
  }

  #isFloorOf(floorCall: AstNode, value: AstNode, scope: Scope): boolean {
    const [argument] = floorCall.children;
    if (floorCall.type !== 'function' || floorCall.meta?.name !== 'floor' || !argument) return false;
    const path = this.subject(value, scope);
    return path !== undefined && argument.meta?.fullAccessor === value.meta?.fullAccessor;
  }

  // can(regex("<pattern>", <subject>)), with a pattern that means the same
  // to Go's RE2 and to ECMAScript (see portablePattern).
  async #regexMatch(node: AstNode, scope: Scope): Promise<{ path: Path; pattern: string } | undefined> {
    const [call] = node.children;
    if (node.type !== 'function' || node.meta?.name !== 'can' || node.children.length !== 1) return undefined;
    if (call?.type !== 'function' || call.meta?.name !== 'regex' || call.children.length !== 2) return undefined;
    const [patternNode, subjectNode] = call.children as [AstNode, AstNode];
    const path = this.subject(subjectNode, scope);
    const pattern = await constant(patternNode.meta?.value ?? '');
    if (!path || typeof pattern?.value !== 'string' || !portablePattern(pattern.value)) return undefined;
    return { path, pattern: pattern.value };
  }

  async #forAll(loop: AstNode, scope: Scope): Promise<Piece[]> {
    const [collection, body, ...rest] = loop.children;
    if (!collection || !body || rest.length > 0) return [];
    const keyVar = typeof loop.meta?.keyVar === 'string' && loop.meta.keyVar !== '' ? loop.meta.keyVar : undefined;
    const valueVar = typeof loop.meta?.valVar === 'string' ? loop.meta.valVar : undefined;
    const inner = new Map(scope);
    const over = this.subject(collection, scope);
    const [keysOf] = collection.children;
    if (over) {
      if (valueVar) inner.set(valueVar, [...over, 'elements']);
      if (keyVar) inner.set(keyVar, [...over, 'keys']);
    } else if (
      collection.type === 'function' &&
      collection.meta?.name === 'keys' &&
      keysOf &&
      collection.children.length === 1 &&
      !keyVar
    ) {
      const map = this.subject(keysOf, scope);
      if (!map || !valueVar) return [];
      inner.set(valueVar, [...map, 'keys']);
    } else {
      return [];
    }
    return this.pieces(body, inner);
  }
}

async function number(node: AstNode): Promise<number | undefined> {
  if (node.type !== 'literalValue' && node.type !== 'unaryOp') return undefined;
  const value = await constant(node.meta?.value ?? '');
  return typeof value?.value === 'number' ? value.value : undefined;
}

function isPrimitive(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
