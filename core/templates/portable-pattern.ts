// Whether a regular expression from a Terraform condition can be checked by
// the API too, because it means the same in both engines (constraints.ts).
//
// RE2 (Terraform's regex) and ECMAScript with the u flag (the API's, and
// JSON Schema's) agree on the common syntax. A pattern that uses anything
// where they differ is left to Terraform: inline flags and other (?...)
// groups but (?:, \A \z \Q \E \C, POSIX classes, \pL without braces,
// \x{...}, and \s (ASCII white space in RE2, Unicode in ECMAScript).
export function portablePattern(pattern: string): boolean {
  if (/\(\?(?!:)|\\[AzQECsS]|\[\[:|\\[pP](?!\{)|\\x\{/.test(pattern)) return false;
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}
