// A template's variables as a zod schema, and so as JSON Schema in the OpenAPI
// document. The schema accepts a strict subset of what Terraform accepts, and
// never a value Terraform would read differently from what the API stores:
//
//   string            a well-formed string in NFC (Terraform normalises strings to NFC)
//   number            a finite JSON number, never a numeric string
//   bool              true or false, never "true"
//   list(T), set(T)   an array (a set's items unique: Terraform would merge duplicates)
//   map(T)            an object of any keys
//   object({...})     exactly those attributes; optional(T) and optional(T, d) may be left out
//   tuple([...])      an array of exactly that many items
//   any               any JSON value; inside a collection, items of one primitive type
//                     (Terraform would convert mixed items to a common type)
//   null              only for a whole variable that is nullable and has a default, and
//                     whose validations let null through themselves
//
// Validations translated by constraints.ts narrow these further.
import { z } from 'zod';
import { type Constraints, mergeConstraints, type TfType, type VariableSpec } from './manifest.ts';

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
const graphemeCount = (s: string) => [...graphemes.segment(s)].length;

const isCanonicalString = (s: string) => s.isWellFormed() && s.normalize('NFC') === s;
const CANONICAL = 'must be well-formed Unicode in NFC (Terraform normalises strings to NFC)';

export function variableSchema(variable: VariableSpec, extra: Constraints = {}): z.ZodType {
  const constraints: Constraints = {};
  for (const validation of variable.validations)
    if (validation.translated) mergeConstraints(constraints, validation.translated);
  mergeConstraints(constraints, extra);
  const schema = typeSchema(variable.type, constraints);
  const nullable = variable.nullable && variable.hasDefault && variable.validations.every((v) => v.allowsNull);
  return nullable ? schema.nullable() : schema;
}

export function typeSchema(type: TfType, c: Constraints = {}): z.ZodType {
  switch (type.kind) {
    case 'string':
      return stringSchema(c);
    case 'number':
      return numberSchema(c);
    case 'bool':
      return withEnum(z.boolean(), c);
    case 'any':
      // Any JSON value (the body was parsed from JSON). Not z.json(): the
      // OpenAPI generator cannot follow its recursion.
      return z
        .unknown()
        .refine((value) => value !== undefined, 'a value is required')
        .refine(allStringsCanonical, CANONICAL)
        .meta({ description: 'Any JSON value.' });
    case 'list':
    case 'set':
      return collection(type.kind, type.element, c);
    case 'map':
      return mapSchema(type.element, c);
    case 'tuple':
      return z.tuple(type.elements.map((element) => typeSchema(element)) as [z.ZodType, ...z.ZodType[]]);
    case 'object': {
      const shape: Record<string, z.ZodType> = {};
      for (const [name, attribute] of Object.entries(type.attributes)) {
        const schema = typeSchema(attribute.type);
        shape[name] = attribute.optional ? schema.optional() : schema;
      }
      return z.strictObject(shape);
    }
  }
}

function stringSchema(c: Constraints): z.ZodType {
  let schema = z.string().refine(isCanonicalString, CANONICAL);
  if (c.maxLength !== undefined) schema = schema.max(c.maxLength);
  if (c.minLength !== undefined) {
    // Terraform's length() counts grapheme clusters.
    const min = c.minLength;
    schema = schema.min(min).refine((s) => graphemeCount(s) >= min, `must be at least ${min} characters`);
  }
  const [first, ...more] = c.patterns ?? [];
  for (const pattern of c.patterns ?? []) schema = schema.regex(new RegExp(pattern, 'u'), `must match ${pattern}`);
  // The document carries the pattern's source (JSON Schema matches it with
  // Unicode semantics), not the JavaScript literal with its flag.
  if (first !== undefined)
    schema = schema.meta({
      pattern: first,
      ...(more.length > 0 ? { allOf: more.map((pattern) => ({ pattern })) } : {}),
    });
  const notPatterns = c.notPatterns ?? [];
  for (const pattern of notPatterns) {
    const re = new RegExp(pattern, 'u');
    schema = schema.refine((s) => !re.test(s), `must not match ${pattern}`);
  }
  // One `not` for all of them: each .meta() would replace the last.
  const [onlyNot] = notPatterns;
  if (notPatterns.length === 1 && onlyNot !== undefined) schema = schema.meta({ not: { pattern: onlyNot } });
  if (notPatterns.length > 1) schema = schema.meta({ not: { anyOf: notPatterns.map((pattern) => ({ pattern })) } });
  return withEnum(schema, c);
}

function numberSchema(c: Constraints): z.ZodType {
  let schema = c.integer ? z.int() : z.number();
  if (c.minimum !== undefined) schema = schema.gte(c.minimum);
  if (c.maximum !== undefined) schema = schema.lte(c.maximum);
  if (c.exclusiveMinimum !== undefined) schema = schema.gt(c.exclusiveMinimum);
  if (c.exclusiveMaximum !== undefined) schema = schema.lt(c.exclusiveMaximum);
  return withEnum(schema, c);
}

// An enum narrows a schema to those of its values the schema accepts.
function withEnum(schema: z.ZodType, c: Constraints): z.ZodType {
  if (!c.enum) return schema;
  const values = c.enum.filter((value) => schema.safeParse(value).success) as Array<string | number | boolean>;
  const [first, ...rest] = values;
  if (first === undefined) return z.never();
  if (values.every((value) => typeof value === 'string')) return z.enum(values as [string, ...string[]]);
  return rest.length === 0 ? z.literal(first) : z.union([z.literal(first), ...rest.map((value) => z.literal(value))]);
}

function collection(kind: 'list' | 'set', element: TfType, c: Constraints): z.ZodType {
  const arrays =
    element.kind === 'any'
      ? PRIMITIVES.map((primitive) => z.array(typeSchema(primitive, c.elements)))
      : [z.array(typeSchema(element, c.elements))];
  const sized = arrays.map((array) => {
    let schema = array;
    if (c.minLength !== undefined) schema = schema.min(c.minLength);
    if (c.maxLength !== undefined) schema = schema.max(c.maxLength);
    return schema;
  });
  const schema = sized.length === 1 ? (sized[0] as z.ZodType) : z.union(sized);
  if (kind === 'list') return schema;
  return schema
    .refine(
      (items) => new Set((items as unknown[]).map(canonicalJson)).size === (items as unknown[]).length,
      'must not repeat an item (it is a set)',
    )
    .meta({ uniqueItems: true });
}

function mapSchema(element: TfType, c: Constraints): z.ZodType {
  const key = stringSchema(c.keys ?? {}) as z.ZodType<string>;
  const records =
    element.kind === 'any'
      ? PRIMITIVES.map((primitive) => z.record(key, typeSchema(primitive, c.elements)))
      : [z.record(key, typeSchema(element, c.elements))];
  let schema: z.ZodType = records.length === 1 ? (records[0] as z.ZodType) : z.union(records);
  // The OpenAPI generator leaves a record's key schema out.
  const { $schema: _, ...propertyNames } = z.toJSONSchema(key, { unrepresentable: 'any' });
  schema = schema.meta({ propertyNames });
  const { minLength: min, maxLength: max } = c;
  if (min !== undefined)
    schema = schema
      .refine((m) => Object.keys(m as object).length >= min, `must have at least ${min} keys`)
      .meta({ minProperties: min });
  if (max !== undefined)
    schema = schema
      .refine((m) => Object.keys(m as object).length <= max, `must have at most ${max} keys`)
      .meta({ maxProperties: max });
  if (c.distinctKeysIgnoringCase) {
    schema = schema.refine((m) => {
      const keys = Object.keys(m as object);
      return new Set(keys.map((k) => k.toLowerCase())).size === keys.length;
    }, 'must not have keys that differ only in case');
  }
  return schema;
}

const PRIMITIVES: TfType[] = [{ kind: 'string' }, { kind: 'number' }, { kind: 'bool' }];

function allStringsCanonical(value: unknown): boolean {
  if (typeof value === 'string') return isCanonicalString(value);
  if (Array.isArray(value)) return value.every(allStringsCanonical);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(([key, item]) => isCanonicalString(key) && allStringsCanonical(item));
  }
  return true;
}

// JSON with object keys sorted: equal values, equal text.
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
