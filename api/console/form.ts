// A template's create and change forms: one field per input, read from the
// input's JSON Schema (the one the OpenAPI document shows), and the form's
// answer turned back into the JSON a REST client would send. Checking the
// values is the use case's (the template's zod schema): a field here only
// says how a value is typed in, and carries the schema's bounds and pattern
// so a browser can hint at them.
import { z } from 'zod';
import type { FieldError } from '../../core/errors.ts';
import type { Template, TemplateInput } from '../../core/templates/index.ts';

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  items?: Schema;
  anyOf?: Schema[];
};

export type FieldKind = 'select' | 'checkbox' | 'number' | 'text' | 'password' | 'list' | 'map' | 'json';

export type Field = {
  name: string;
  kind: FieldKind;
  description: string | undefined;
  required: boolean;
  options: string[];
  min: number | undefined;
  max: number | undefined;
  step: string;
  pattern: string | undefined;
  maxLength: number | undefined;
  // What the field shows: the default, the stack's value or what was typed.
  value: string;
  checked: boolean;
  rows: Array<{ key: string; value: string }>;
  error: string | undefined;
};

// The form's values by field name, as the form encoding gives them.
export type FormBody = Record<string, string | string[] | undefined>;

export function fieldsOf(
  template: Template,
  values: Record<string, unknown>,
  options: { typed?: FormBody; errors?: readonly FieldError[]; change?: boolean } = {},
): Field[] {
  return template.inputs.map((input) =>
    fieldOf(input, values[input.name] ?? (options.change ? undefined : input.default), options),
  );
}

function fieldOf(
  input: TemplateInput,
  value: unknown,
  options: { typed?: FormBody; errors?: readonly FieldError[]; change?: boolean },
): Field {
  const schema = nonNull(z.toJSONSchema(input.schema, { unrepresentable: 'any', io: 'input' }) as Schema);
  const kind = kindOf(input, schema);
  const typed = options.typed;
  const error = options.errors
    ?.filter((e) => e.path === input.name || e.path.startsWith(`${input.name}.`))
    .map((e) => e.message)
    .join('; ');
  const field: Field = {
    name: input.name,
    kind,
    description: input.description,
    required: !input.hasDefault && !options.change,
    options: (schema.enum ?? []).map(String),
    min: schema.minimum ?? schema.exclusiveMinimum,
    max: schema.maximum ?? schema.exclusiveMaximum,
    step: schema.type === 'integer' ? '1' : 'any',
    pattern: schema.pattern,
    maxLength: schema.maxLength,
    value: '',
    checked: false,
    rows: [],
    error: error || undefined,
  };
  if (kind === 'list' || kind === 'map') {
    field.rows = typed ? typedRows(typed, input.name, kind) : valueRows(value, kind);
    // One empty row to add to; "Add a row" asks for another without script.
    const extra = typed?._add === input.name ? 2 : 1;
    for (let i = 0; i < extra; i++) field.rows.push({ key: '', value: '' });
  } else if (kind === 'checkbox') {
    field.checked = typed ? typed[input.name] !== undefined : value === true;
  } else if (kind !== 'password') {
    field.value = typed
      ? one(typed[input.name])
      : value === undefined || value === null
        ? ''
        : kind === 'json'
          ? JSON.stringify(value)
          : String(value);
  }
  return field;
}

function kindOf(input: TemplateInput, schema: Schema): FieldKind {
  if (input.sensitive) return 'password';
  if (schema.enum) return 'select';
  const kind = input.type.kind;
  if (kind === 'bool') return 'checkbox';
  if (kind === 'number') return 'number';
  if (kind === 'string') return 'text';
  const primitive = (t: { kind: string }) => t.kind === 'string' || t.kind === 'number' || t.kind === 'bool';
  if ((kind === 'list' || kind === 'set') && primitive(input.type.element)) return 'list';
  if (kind === 'map' && primitive(input.type.element)) return 'map';
  return 'json';
}

// The form's answer as a request body: fields left empty that have a
// default are left out (the default applies), as a REST client would.
// A change (`current`: the stack's inputs) leaves out what it does not
// change, and names each map key it removes with null (RFC 7396).
export function bodyOf(
  template: Template,
  form: FormBody,
  current?: Record<string, unknown>,
): { values: Record<string, unknown>; errors: FieldError[] } {
  const values: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const input of template.inputs) {
    const schema = nonNull(z.toJSONSchema(input.schema, { unrepresentable: 'any', io: 'input' }) as Schema);
    const kind = kindOf(input, schema);
    const text = one(form[input.name]);
    const omit = (current !== undefined || input.hasDefault) && text === '';
    switch (kind) {
      case 'checkbox':
        values[input.name] = form[input.name] !== undefined;
        break;
      case 'list':
        values[input.name] = all(form[`${input.name}.value`])
          .filter((v) => v !== '')
          .map((v) => scalar(elementOf(input), v));
        break;
      case 'map': {
        const map: Record<string, unknown> = {};
        const keys = all(form[`${input.name}.key`]);
        const entries = all(form[`${input.name}.value`]);
        keys.forEach((key, i) => {
          if (key !== '') map[key] = scalar(elementOf(input), entries[i] ?? '');
        });
        const before = current?.[input.name];
        if (before && typeof before === 'object')
          for (const key of Object.keys(before)) if (!(key in map)) map[key] = null;
        values[input.name] = map;
        break;
      }
      case 'json':
        if (omit) break;
        try {
          values[input.name] = JSON.parse(text);
        } catch {
          errors.push({ path: input.name, message: 'must be JSON, for example {"a": 1} or ["x", 2]' });
        }
        break;
      case 'select':
        if (omit) break;
        values[input.name] = (schema.enum ?? []).find((option) => String(option) === text) ?? text;
        break;
      default:
        if (omit || (kind === 'password' && text === '')) break;
        values[input.name] = kind === 'number' && text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    }
  }
  return { values, errors };
}

function elementOf(input: TemplateInput): { kind: string } {
  const type = input.type as { kind: string; element?: { kind: string } };
  return type.element ?? { kind: 'string' };
}

function scalar(type: { kind: string }, text: string): unknown {
  if (type.kind === 'number' && text !== '' && Number.isFinite(Number(text))) return Number(text);
  if (type.kind === 'bool' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function typedRows(form: FormBody, name: string, kind: FieldKind): Array<{ key: string; value: string }> {
  const keys = all(form[`${name}.key`]);
  const values = all(form[`${name}.value`]);
  return values
    .map((value, i) => ({ key: keys[i] ?? '', value }))
    .filter((row) => row.value !== '' || (kind === 'map' && row.key !== ''));
}

function valueRows(value: unknown, kind: FieldKind): Array<{ key: string; value: string }> {
  if (kind === 'list' && Array.isArray(value)) return value.map((item) => ({ key: '', value: String(item) }));
  if (kind === 'map' && value && typeof value === 'object')
    return Object.entries(value).map(([key, item]) => ({ key, value: String(item) }));
  return [];
}

// A nullable input's schema is `anyOf: [T, null]`: the form shows T.
function nonNull(schema: Schema): Schema {
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== 'null') : undefined;
  if (types?.length === 1) return { ...schema, type: types[0] };
  const [first, second] = schema.anyOf ?? [];
  if (first && second?.type === 'null' && schema.anyOf?.length === 2) return first;
  return schema;
}

const one = (value: string | string[] | undefined) => (Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));
const all = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];
