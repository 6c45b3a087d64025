// Node.js flags the API runs with, kept in package.json's `config` so that
// `npm run api`, `npm run dev` and the benchmark start it the same way. A
// small young generation and a capped old one hold the API's RSS near
// 150 MB under load; its live heap is about 40 MB.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  config?: { apiNodeFlags?: string };
};

export const API_NODE_FLAGS: string[] = (pkg.config?.apiNodeFlags ?? '').split(' ').filter(Boolean);
