// A real browser for the console's tests: Debian's Chromium driven by
// playwright-core, one per test file; pages that record every dialog (so a
// test can say no script a user typed ever ran); axe-core run in a page;
// and the README's screenshots, written only with UPDATE_SCREENSHOTS=1 so
// an ordinary run changes no file.
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from './harness.ts';

export const XSS = '<img src=x onerror=alert(1)>';
const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'console') : undefined;

export class ConsoleBrowser {
  readonly dialogs: string[] = [];
  readonly #browser: Browser;

  private constructor(browser: Browser) {
    this.#browser = browser;
  }

  // Playwright gives the browser a fresh profile of its own (it refuses --user-data-dir).
  static async launch(): Promise<ConsoleBrowser> {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    return new ConsoleBrowser(browser);
  }

  // A new context (its own cookies) on `baseURL`, whose page counts dialogs.
  async newPage(baseURL: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await this.#browser.newContext({ baseURL });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('dialog', async (dialog) => {
      this.dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    return { context, page };
  }

  async close(): Promise<void> {
    await this.#browser.close();
  }
}

// axe-core in the page (evaluated through the debugging protocol, which the
// page's CSP does not govern): no serious or critical violation. `shot`
// names the screenshot the README shows of this page.
export async function accessible(page: Page, shot?: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> };
      }
    ).axe;
    return (await axe.run()).violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.nodes.length})`);
  });
  assert.deepEqual(violations, [], `axe on ${page.url()}`);
  if (SCREENSHOTS && shot) {
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${shot}.png`), fullPage: true });
  }
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.goto('/ui/');
  assert.match(page.url(), /\/ui\/login$/);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Stacks' }).waitFor();
}
