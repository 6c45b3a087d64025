// The length of every function in a TypeScript file, for the house rule that
// no function grows past a screenful. Types are stripped first (Node's own
// stripper keeps every position), then braces are matched by a small scanner
// that knows strings, templates, comments and regular expressions: a brace
// opens a function body after `=>`, or after the `)` of a parameter list
// (not of an `if`, `for`, `while`, `switch`, `catch` or `with`). A function's
// own lines leave out those of the functions declared inside it, as a
// class's methods are counted apart from the class, and the lines inside its
// object and array literals: a declarative table is not code to read through,
// however long. A brace is a literal where an expression starts (after `(`,
// `,`, `=`, `:`, `return` …), a block where a statement does; a bracket is an
// array literal there too, and an index after a name, `)` or `]`.
import { stripTypeScriptTypes } from 'node:module';

export type FunctionSpan = { line: number; lines: number };

const NOT_FUNCTIONS = new Set(['if', 'for', 'while', 'switch', 'catch', 'with']);
const BEFORE_REGEX = new Set([
  'return',
  'typeof',
  'case',
  'of',
  'in',
  'else',
  'do',
  'void',
  'delete',
  'throw',
  'await',
  'yield',
  'instanceof',
]);

// Words after which an expression starts: a `{` or `[` there is a literal.
const BEFORE_EXPRESSION = new Set([...BEFORE_REGEX].filter((w) => w !== 'else' && w !== 'do'));

// fn: a function body; literal: an object or array literal; switch: a
// switch's body, where `case x: {` opens a block; block: any other braces,
// and brackets that index. `nested`: lines counted elsewhere, by a function
// declared inside or (in a function) by a literal.
type Open = { line: number; kind: 'fn' | 'literal' | 'switch' | 'block'; nested: number };

export function functionSpans(source: string): FunctionSpan[] {
  const code = stripTypeScriptTypes(source, { mode: 'strip' });
  const spans: FunctionSpan[] = [];
  const braces: Open[] = [];
  const parens: string[] = [];
  // Braces of `${` in template literals: the template resumes at their end.
  const templates: number[] = [];
  let line = 1;
  let prev = '';
  // Where `prev` is, when it is a punctuator: `=>` is `=` then `>`.
  let prevAt = 0;
  let word = '';
  let parenHead = '';
  let i = 0;
  // Whether an expression starts here: after an operator or a keyword like `return`.
  const expressionStarts = () =>
    prev === '' || /[(,=:[!&|?+\-*%<>~^.]/.test(prev) || (prev === 'w' && BEFORE_EXPRESSION.has(word));
  // A closed function's or literal's lines, given to the function or literal around it.
  const countIn = (open: Open, lines: number) => {
    const outer = braces.findLast((b) => b.kind === 'fn' || b.kind === 'literal');
    // A literal inside a literal is already among the outer one's lines.
    if (outer && !(open.kind === 'literal' && outer.kind === 'literal')) outer.nested += lines;
  };
  const skipTo = (end: string) => {
    while (i < code.length && !code.startsWith(end, i)) {
      if (code[i] === '\n') line++;
      if (code[i] === '\\') i++;
      i++;
    }
    i += end.length;
  };
  const template = () => {
    while (i < code.length) {
      const c = code[i];
      if (c === '\\') i += 2;
      else if (c === '`') return void i++;
      else if (c === '$' && code[i + 1] === '{') {
        i += 2;
        templates.push(braces.length);
        braces.push({ line, kind: 'block', nested: 0 });
        return;
      } else {
        if (c === '\n') line++;
        i++;
      }
    }
  };
  while (i < code.length) {
    const c = code[i] ?? '';
    if (c === '\n') line++;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (code.startsWith('//', i)) {
      skipTo('\n');
      line++;
    } else if (code.startsWith('/*', i)) {
      i += 2;
      skipTo('*/');
    } else if (c === "'" || c === '"') {
      i += 1;
      skipTo(c);
      prev = 'x';
    } else if (c === '`') {
      i += 1;
      template();
      prev = 'x';
    } else if (
      c === '/' &&
      (prev === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(prev) || (prev === 'w' && BEFORE_REGEX.has(word)))
    ) {
      i += 1;
      let inClass = false;
      while (i < code.length && (inClass || code[i] !== '/')) {
        if (code[i] === '\\') i++;
        else if (code[i] === '[') inClass = true;
        else if (code[i] === ']') inClass = false;
        i++;
      }
      i++;
      prev = 'x';
    } else if (/[A-Za-z_$#0-9]/.test(c)) {
      const start = i;
      while (i < code.length && /[A-Za-z_$#0-9]/.test(code[i] ?? '')) i++;
      word = code.slice(start, i);
      prev = 'w';
    } else if (c === '(') {
      parens.push(prev === 'w' ? word : '');
      prev = c;
      i++;
    } else if (c === ')') {
      parenHead = parens.pop() ?? '';
      prev = c;
      i++;
    } else if (c === '{') {
      const arrow = prev === '>' && code[prevAt - 1] === '=';
      const fn = arrow || (prev === ')' && !NOT_FUNCTIONS.has(parenHead));
      const caseBlock = prev === ':' && braces.at(-1)?.kind === 'switch';
      const kind = fn
        ? 'fn'
        : prev === ')' && parenHead === 'switch'
          ? 'switch'
          : !caseBlock && expressionStarts()
            ? 'literal'
            : 'block';
      braces.push({ line, kind, nested: 0 });
      prev = c;
      i++;
    } else if (c === '[') {
      braces.push({ line, kind: expressionStarts() ? 'literal' : 'block', nested: 0 });
      prev = c;
      prevAt = i;
      i++;
    } else if (c === ']') {
      const open = braces.pop();
      if (!open) throw new Error(`unbalanced ] at line ${line}`);
      // Its lines between the brackets: the first and last lines hold code around it.
      if (open.kind === 'literal') countIn(open, Math.max(line - open.line - 1, open.nested));
      prev = c;
      prevAt = i;
      i++;
    } else if (c === '}') {
      const open = braces.pop();
      if (!open) throw new Error(`unbalanced } at line ${line}`);
      if (templates.at(-1) === braces.length) {
        templates.pop();
        i++;
        template();
        prev = 'x';
        continue;
      }
      if (open.kind === 'fn') {
        const lines = line - open.line + 1;
        spans.push({ line: open.line, lines: lines - open.nested });
        countIn(open, lines);
      } else if (open.kind === 'literal') {
        countIn(open, Math.max(line - open.line - 1, open.nested));
      }
      prev = c;
      i++;
    } else {
      prev = c;
      prevAt = i;
      i++;
    }
  }
  if (braces.length > 0) throw new Error(`unbalanced { from line ${braces.at(-1)?.line}`);
  return spans;
}
