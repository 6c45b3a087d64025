// What the module reader (module-reader.ts, run as a child process) learns
// from a template's .tf files: its variables with their types, defaults and
// the validations that could be translated, its outputs, and the local
// modules it sources. The parent re-parses the reader's answer with these
// schemas: the child's output is data like any other.
import { z } from 'zod';

// A Terraform type constraint, as a tree.
export type TfType =
  | { kind: 'string' | 'number' | 'bool' | 'any' }
  | { kind: 'list' | 'set' | 'map'; element: TfType }
  | { kind: 'object'; attributes: Record<string, TfAttribute> }
  | { kind: 'tuple'; elements: TfType[] };
export type TfAttribute = { type: TfType; optional: boolean; default?: unknown };

export const TfType: z.ZodType<TfType> = z.lazy(() =>
  z.union([
    z.strictObject({ kind: z.enum(['string', 'number', 'bool', 'any']) }),
    z.strictObject({ kind: z.enum(['list', 'set', 'map']), element: TfType }),
    z.strictObject({ kind: z.literal('object'), attributes: z.record(z.string(), TfAttribute) }),
    z.strictObject({ kind: z.literal('tuple'), elements: z.array(TfType) }),
  ]),
);
const TfAttribute: z.ZodType<TfAttribute> = z.lazy(() =>
  z.strictObject({ type: TfType, optional: z.boolean(), default: z.unknown().optional() }),
);

// What a validation block's condition says about a value, where it takes a
// shape we can check before any job (see constraints.ts). Every field is a
// necessary condition: a value Terraform would accept satisfies them all.
export type Constraints = {
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  integer?: boolean;
  // Lengths: code points for strings (Terraform counts grapheme clusters, of
  // which there are never more), elements or keys for collections.
  minLength?: number;
  maxLength?: number;
  patterns?: string[];
  notPatterns?: string[];
  // A map's keys stay distinct lowercased (IAM-style case-insensitive keys).
  distinctKeysIgnoringCase?: boolean;
  // Of every element (list, set, map values) and of every map key.
  elements?: Constraints;
  keys?: Constraints;
};
export const Constraints: z.ZodType<Constraints> = z.lazy(() =>
  z.strictObject({
    enum: z.array(z.unknown()).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    exclusiveMinimum: z.number().optional(),
    exclusiveMaximum: z.number().optional(),
    integer: z.boolean().optional(),
    minLength: z.int().optional(),
    maxLength: z.int().optional(),
    patterns: z.array(z.string()).optional(),
    notPatterns: z.array(z.string()).optional(),
    distinctKeysIgnoringCase: z.boolean().optional(),
    elements: Constraints.optional(),
    keys: Constraints.optional(),
  }),
);

// Several constraints on one value: each bound the tighter, enums intersected.
export function mergeConstraints(into: Constraints, from: Constraints): void {
  for (const key of ['minimum', 'exclusiveMinimum', 'minLength'] as const) {
    const value = from[key];
    if (value !== undefined) into[key] = Math.max(into[key] ?? value, value);
  }
  for (const key of ['maximum', 'exclusiveMaximum', 'maxLength'] as const) {
    const value = from[key];
    if (value !== undefined) into[key] = Math.min(into[key] ?? value, value);
  }
  if (from.integer) into.integer = true;
  if (from.distinctKeysIgnoringCase) into.distinctKeysIgnoringCase = true;
  if (from.enum) into.enum = into.enum ? into.enum.filter((v) => from.enum?.includes(v)) : [...from.enum];
  if (from.patterns) into.patterns = [...(into.patterns ?? []), ...from.patterns];
  if (from.notPatterns) into.notPatterns = [...(into.notPatterns ?? []), ...from.notPatterns];
  if (from.elements) {
    into.elements ??= {};
    mergeConstraints(into.elements, from.elements);
  }
  if (from.keys) {
    into.keys ??= {};
    mergeConstraints(into.keys, from.keys);
  }
}

export const Validation = z.strictObject({
  condition: z.string(),
  error_message: z.string(),
  // null: not a shape we translate; Terraform checks it when the job runs.
  translated: Constraints.nullable(),
  // The condition is `var.x == null || ...`: it lets null through itself.
  allowsNull: z.boolean(),
  // Every part of the condition was translated: the API checks all of it.
  complete: z.boolean(),
});
export type Validation = z.infer<typeof Validation>;

export const VariableSpec = z.strictObject({
  name: z.string(),
  type: TfType,
  // Absent: the variable is required.
  default: z.unknown().optional(),
  hasDefault: z.boolean(),
  description: z.string().optional(),
  sensitive: z.boolean(),
  nullable: z.boolean(),
  validations: z.array(Validation),
});
export type VariableSpec = z.infer<typeof VariableSpec>;

export const ModuleManifest = z.strictObject({
  dir: z.string(),
  variables: z.array(VariableSpec),
  outputs: z.array(z.strictObject({ name: z.string(), sensitive: z.boolean(), description: z.string().optional() })),
  // Directories of the local modules it sources ("./x", "../y"), absolute.
  localModules: z.array(z.string()),
});
export type ModuleManifest = z.infer<typeof ModuleManifest>;

export const ReaderOutput = z.union([
  z.strictObject({ ok: z.literal(true), modules: z.array(ModuleManifest) }),
  z.strictObject({ ok: z.literal(false), file: z.string(), message: z.string() }),
]);
