/**
 * Headless Chromium (Debian's) for the browser tests, at a phone's and a desktop's size, with
 * axe-core for the accessibility check and screenshots to look at.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
} as const;

export type ViewportName = keyof typeof VIEWPORTS;

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly profile: string;
  /** Content-Security-Policy violations the page reported, every visit. */
  readonly cspViolations: string[];
}

/** A fresh profile; the network is closed here, so nothing may phone home. */
export async function launchBrowser(size: ViewportName, options: { ignoreHTTPSErrors?: boolean } = {}): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'aronanet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    ...VIEWPORTS[size],
    ...options,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  const cspViolations: string[] = [];
  await page.exposeFunction('reportCspViolation', (text: string) => cspViolations.push(text));
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (event) =>
    window.reportCspViolation(event.violatedDirective + ' blocked ' + event.blockedURI))`);
  return { context, page, profile, cspViolations };
}

export async function closeBrowser(browser: Browser | undefined): Promise<void> {
  if (!browser) return;
  await browser.context.close();
  fs.rmSync(browser.profile, { recursive: true, force: true });
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/**
 * axe-core's WCAG 2 A/AA and best-practice rules on the page as it is; the serious and
 * critical violations. Evaluated through the DevTools protocol, so the page's CSP allows it.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  // A string, not a function: jest's Babel would rewrite an async function with helpers the page lacks.
  const violations = (await page.evaluate(`axe
    .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    .then((result) => result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' ' + n.html.slice(0, 120) + ' ' + (n.failureSummary || '').slice(0, 300)),
    })))`)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** A screenshot in the temporary directory, named after the size and the moment. */
export async function screenshot(page: Page, size: ViewportName, moment: string): Promise<string> {
  const file = path.join(os.tmpdir(), `aronanet-ui-${size}-${moment}.png`);
  await page.screenshot({ path: file });
  return file;
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Where the message list is scrolled: pixels from the bottom, and the top offset. */
export async function listScroll(page: Page): Promise<{ fromBottom: number; top: number; height: number; client: number }> {
  return page.getByTestId('messages').evaluate((element) => ({
    fromBottom: element.scrollHeight - element.scrollTop - element.clientHeight,
    top: element.scrollTop,
    height: element.scrollHeight,
    client: element.clientHeight,
  }));
}

/** Is the element fully inside the message list's visible area? */
export async function inListView(page: Page, selector: string): Promise<boolean> {
  const list = await page.getByTestId('messages').boundingBox();
  const item = await page.locator(selector).last().boundingBox();
  if (!list || !item) return false;
  return item.y >= list.y - 1 && item.y + item.height <= list.y + list.height + 1;
}
