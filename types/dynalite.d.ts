// The part of dynalite's API that test/support/local-services.ts uses; the package
// ships no type declarations.
declare module 'dynalite' {
  import type { Server } from 'node:net';
  type Options = { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number; path?: string };
  export default function dynalite(options?: Options): Server;
}
