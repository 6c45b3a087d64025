// Translates the common shapes of a variable's validation condition into
// constraints the API checks before any job (see manifest.ts, Constraints):
//
//   contains([...], var.x)                       enum
//   var.x >= 1, 10 > var.x                       minimum / maximum (exclusive too)
//   floor(var.x) == var.x                        integer
//   length(var.x) <= 20                          length bounds
//   can(regex("...", var.x)), !can(regex(...))   pattern, or a pattern it must not match
//   alltrue([for k, v in var.x : ...])           the above, of every element or map key
//   alltrue([for k in keys(var.x) : ...])        the above, of every map key
//   length(distinct([for k in keys(var.x) :      a map's keys distinct without
//     lower(k)])) == length(var.x)               regard to case
//   A && B                                       both
//   var.x == null ? true : A                     A, and null is let through
//   var.x == null || A                           A; null is not let through, as
//                                                Terraform 1.11 evaluates both sides
//                                                and A fails on null
//
// A part of a condition in any other shape is left to Terraform. The parts
// that are translated are necessary conditions, so a value the API accepts
// for their sake alone may still fail Terraform's validation, never the
// reverse.
import { getExpressionAst } from '@cdktn/hcl2json';
import { type Constraints, mergeConstraints as merge } from './manifest.ts';
import type { AstNode } from './hcl-ast.ts';
import { type Path, Translator } from './condition-translator.ts';

export type Translation = {
  constraints: Constraints;
  // `var.x == null || ...`: the condition lets null through itself.
  allowsNull: boolean;
  // Every part of the condition was translated.
  complete: boolean;
};

export async function constraintsOf(condition: string, variable: string): Promise<Translation | undefined> {
  let node: AstNode | null;
  try {
    node = (await getExpressionAst('condition.tf', condition)) as AstNode | null;
  } catch {
    return undefined;
  }
  if (!node) return undefined;
  const translator = new Translator(variable);
  let allowsNull = false;
  const [first, second, third] = node.children;
  if (
    node.type === 'binaryOp' &&
    node.meta?.operator === 'logicalOr' &&
    first &&
    second &&
    translator.isNullCheck(first, new Map())
  ) {
    node = second;
  } else if (
    node.type === 'conditional' &&
    first &&
    second &&
    third &&
    translator.isNullCheck(first, new Map()) &&
    second.meta?.value === 'true'
  ) {
    allowsNull = true;
    node = third;
  }
  const pieces = await translator.pieces(node, new Map());
  if (pieces.length === 0) return undefined;
  const constraints: Constraints = {};
  for (const piece of pieces) merge(at(constraints, piece.path), piece.constraints);
  return { constraints, allowsNull, complete: !translator.partial };
}

function at(root: Constraints, path: Path): Constraints {
  let node = root;
  for (const step of path) node = node[step] ??= {};
  return node;
}
