// Rendering the console's pages. Eta, with autoEscape on (its default, set
// here so no one turns it off unawares): every `<%= %>` is HTML-escaped, so
// a value from a user (a tag, a token name, Terraform's log) shows as text.
// Eta is maintained, typed, and compiles templates once; the few places
// that insert markup use `<%~ %>` on markup another view rendered.
import { fileURLToPath } from 'node:url';
import type { Response } from 'express';
import { Eta } from 'eta';
import type { Principal } from '../../core/access/roles.ts';

const eta = new Eta({ views: fileURLToPath(new URL('./views', import.meta.url)), autoEscape: true, cache: true });

// What every page's layout needs beside its own data.
export type PageContext = { principal?: Principal | undefined; csrfToken?: string | undefined; isAdmin?: boolean };

export function renderView(view: string, data: object): string {
  return eta.render(view, { ...helpers, ...data });
}

export function sendPage(
  res: Response,
  view: string,
  data: { title: string } & Record<string, unknown>,
  status = 200,
): void {
  const context = (res.locals.page ?? {}) as PageContext;
  res
    .status(status)
    .type('html')
    .send(renderView(view, { ...context, ...data }));
}

// Formatting shared by the views.
const helpers = {
  age(iso: string | null | undefined): string {
    if (!iso) return '';
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 60) return `${seconds} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
    if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`;
    return `${Math.floor(seconds / 86_400)} d`;
  },
  json(value: unknown): string {
    return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  },
  // A query string for links that keep a page's filters.
  query(values: Record<string, string | undefined>): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) if (value) params.set(key, value);
    const text = params.toString();
    return text ? `?${text}` : '';
  },
};
