// The expression tree @cdktn/hcl2json's getExpressionAst returns, as far as
// the module reader uses it, and the value of a constant expression.
import { parse } from '@cdktn/hcl2json';

export type AstNode = {
  type: string;
  meta?: Record<string, unknown> & { value?: string; name?: string; operator?: string };
  children: AstNode[];
};

// The JSON value of a constant HCL expression (a literal, or lists and
// objects of them), or undefined when it is not one: hcl2json leaves anything
// it cannot evaluate, and any template sequence, as "${...}" text.
export async function constant(source: string): Promise<{ value: unknown } | undefined> {
  let value: unknown;
  try {
    value = ((await parse('constant.tf', `v = ${source}\n`)) as { v?: unknown }).v;
  } catch {
    return undefined;
  }
  return isLiteral(value) ? { value } : undefined;
}

function isLiteral(value: unknown): boolean {
  if (typeof value === 'string') return !value.includes('${') && !value.includes('%{');
  if (Array.isArray(value)) return value.every(isLiteral);
  if (value !== null && typeof value === 'object') return Object.values(value).every(isLiteral);
  return value !== undefined;
}
