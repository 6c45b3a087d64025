// A node:test reporter that prints, after the run, the ten slowest tests
// (leaf tests, not the files or suites around them) with their files, so
// that whoever keeps `npm test` within its time budget knows where it goes.
import path from 'node:path';

type TestEvent = {
  type: string;
  data: { name: string; file?: string; details?: { duration_ms?: number; type?: string } };
};

const SHOWN = 10;

export default async function* slowest(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const tests: Array<{ name: string; file: string; ms: number }> = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    // Files (run as subprocesses) and describe() blocks are containers, not tests.
    if (details?.type === 'suite' || file === undefined || name === file) continue;
    tests.push({ name, file: path.relative(process.cwd(), file), ms: details?.duration_ms ?? 0 });
  }
  tests.sort((a, b) => b.ms - a.ms);
  const lines = tests.slice(0, SHOWN).map((t) => `${(t.ms / 1000).toFixed(1).padStart(7)} s  ${t.file}  ${t.name}`);
  yield `\nThe ${Math.min(SHOWN, tests.length)} slowest of ${tests.length} tests:\n${lines.join('\n')}\n`;
}
