/**
 * The web client end to end: build the web export (scripts/build-web.sh), serve it from a real
 * node (`--web-dir`), drive it in headless Chromium at a phone-sized viewport, and talk to it
 * from Python clients (`aronanet send` / `aronanet tail`) and from the protocol library. Last,
 * restart the node under the open app.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { type BrowserContext, chromium, type Page } from 'playwright-core';

import { toHex } from '../../src/protocol/bytes';
import { ArtpClient } from '../../src/protocol/client';
import { fingerprint } from '../../src/protocol/fingerprint';
import { generateKeyPair } from '../../src/protocol/noise';
import { connectClient } from '../support/client';
import { startNode, type RunningNode } from '../support/node';
import { DIST, MOBILE_ROOT, PYTHON } from '../support/paths';
import { serveShellFromDisk } from '../support/shell';
import { noisePng, solidPng } from '../support/png';
import { randomBytes } from '../support/webcrypto';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHANNEL = '#plaza';
const PASSWORD = 'correct horse battery';

let node: RunningNode;
let browser: BrowserContext;
let page: Page;
let tail: ChildProcess;
let tailOutput = '';
let pythonHome: string;
/** Content-Security-Policy violations the page reported (console and DOM event), all visits. */
const cspViolations: string[] = [];

function python(...args: string[]): string {
  return python_('-m', 'aronanet', ...args);
}

/** What the Python client library finds stored in `dest`, as `user` (a second, independent client). */
function pythonHistory(user: string, dest: string): string[] {
  const script = path.join(MOBILE_ROOT, 'tests', 'support', 'python_history.py');
  return python_(script, node.wsUrl, user, dest).split('\n').filter(Boolean).map((line) => JSON.parse(line) as string);
}

function python_(...args: string[]): string {
  const env = { ...process.env, ARONA_PW: PASSWORD };
  return execFileSync(PYTHON, args, { encoding: 'utf8', env, timeout: 30_000 });
}

function pythonSend(text: string): void {
  python('send', '--user', 'kei', '--password-env', 'ARONA_PW', '--register', '--config-dir', pythonHome, node.wsUrl, CHANNEL, text);
}

/** Chromium with a fresh profile; the network is closed here, so nothing may phone home. */
function launchBrowser(): Promise<BrowserContext> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'aronanet-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
}

/** In a second, fresh browser: open the app (after `prepare`), register `user`, open the settings. */
async function registerInFreshBrowser(user: string, prepare: (tab: Page) => Promise<unknown>): Promise<{ tab: Page; close: () => Promise<void> }> {
  const other = await launchBrowser();
  const tab = other.pages()[0] ?? (await other.newPage());
  try {
    await prepare(tab);
    await tab.goto(node.httpUrl);
    await tab.getByTestId('connect').click();
    await tab.getByTestId('trust-node').click(); // a fresh browser: the key is asked about first
    await tab.getByTestId('user').fill(user);
    await tab.getByTestId('password').fill(PASSWORD);
    await tab.getByTestId('register').click();
    await tab.getByTestId('open-settings').click();
  } catch (error) {
    await other.close();
    throw error;
  }
  return { tab, close: () => other.close() };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  expect(fs.existsSync(path.join(DIST, 'index.html'))).toBe(true); // built once by globalSetup.ts
  node = await startNode({ webDir: DIST });
  pythonHome = fs.mkdtempSync(path.join(os.tmpdir(), 'aronanet-e2e-py-'));
  pythonSend('hello from python');
  tail = spawn(
    PYTHON,
    ['-m', 'aronanet', 'tail', '--user', 'kei', '--password-env', 'ARONA_PW', '--config-dir', pythonHome, '--json', node.wsUrl, CHANNEL],
    { env: { ...process.env, ARONA_PW: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  tail.stdout?.on('data', (data: Buffer) => (tailOutput += data.toString()));
  browser = await launchBrowser();
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
  });
  await page.exposeFunction('reportCspViolation', (text: string) => cspViolations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { reportCspViolation: (text: string) => void }).reportCspViolation;
      report(`${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
}, 200_000);

afterAll(async () => {
  tail?.kill('SIGTERM');
  await browser?.close();
  await node?.stop();
});

describe('the web client served by the node', () => {
  it('connects, pins the node fingerprint on first use and registers', async () => {
    const response = await page.goto(node.httpUrl);
    // The page runs under the node's policy (issue 9 item 10); the last test checks it held.
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.getByTestId('connect').click();
    await page.getByTestId('first-use').waitFor();
    const shown = await page.getByTestId('first-use-fingerprint').textContent();
    expect(shown?.replace(/\s/g, '')).toBe(node.fingerprint().replace(/\s/g, ''));
    await page.getByTestId('trust-node').click();
    await page.getByTestId('user').fill('sensei');
    await page.getByTestId('password').fill(PASSWORD);
    await page.getByTestId('register').click();
    await page.getByTestId('start-target').waitFor();
  });

  it('joins a channel and shows the history a Python client wrote', async () => {
    await page.getByTestId('start-target').fill(CHANNEL);
    await page.getByTestId('start').click();
    await page.getByText('hello from python').waitFor();
  });

  it('sends a message that the Python client receives', async () => {
    await page.getByTestId('composer').fill('hello from the phone');
    await page.getByTestId('send').click();
    await page.locator('[data-testid="message-status"][aria-label="sent"]').first().waitFor();
    await waitFor('the Python tail to print the message', () => tailOutput.includes('hello from the phone'));
  });

  it('shows a message the Python client sends while the app is open', async () => {
    pythonSend('live from python');
    await page.getByText('live from python').waitFor();
  });

  it('uploads an image picked from the gallery and the Python client sees the attachment', async () => {
    const chooser = page.waitForEvent('filechooser');
    await page.getByTestId('attach').click();
    await (await chooser).setFiles({ name: 'arona.png', mimeType: 'image/png', buffer: Buffer.from(solidPng(64, 48)) });
    await waitFor('the Python tail to see the attachment', () => tailOutput.includes('arona.png'));
  });

  it('uploads an image of several chunks and marks it sent', async () => {
    const chooser = page.waitForEvent('filechooser');
    await page.getByTestId('attach').click();
    await (await chooser).setFiles({ name: 'noise.png', mimeType: 'image/png', buffer: Buffer.from(noisePng(160, 160)) });
    await waitFor('the Python tail to see the attachment', () => tailOutput.includes('noise.png'));
    const bubble = page.locator('[data-testid^="message-local:"]').last();
    await bubble.locator('[data-testid="message-status"][aria-label="sent"]').waitFor();
    expect(await bubble.getByTestId('upload-progress').count()).toBe(0);
  });

  it('downloads and shows an image another user sent', async () => {
    let kei: ArtpClient | null = null;
    try {
      kei = await connectClient(node);
      await kei.request({ type: 'AUTH', user: 'kei', password: PASSWORD });
      await kei.uploadImage({ bytes: solidPng(80, 40, [232, 127, 168]), name: 'halo.png', mime: 'image/png', destType: 'channel', dest: CHANNEL });
      await page.waitForFunction(
        () =>
          Array.from(document.querySelectorAll('[data-testid="message-image"] img')).filter(
            (img) => (img as HTMLImageElement).naturalWidth === 80,
          ).length === 1,
        undefined,
        { timeout: 20_000 },
      );
      await page.screenshot({ path: path.join(os.tmpdir(), 'aronanet-e2e-chat.png') });
    } finally {
      kei?.close();
    }
  });

  it('reconnects after the node restarts: what was typed meanwhile goes pending then sent', async () => {
    const crashes: string[] = [];
    page.on('pageerror', (error) => crashes.push(error.message));
    await node.halt();
    await page.getByTestId('link-status').waitFor();
    await page.getByTestId('composer').fill('typed while the node was down');
    await page.getByTestId('send').click();
    const bubble = page.locator('[data-testid^="message-local:"]', { hasText: 'typed while the node was down' });
    expect(await bubble.getByTestId('message-status').getAttribute('aria-label')).toBe('sending…');

    await node.resume();
    pythonSend('sent while you were away');
    await page.getByText('sent while you were away').waitFor({ timeout: 30_000 });
    await bubble.locator('[data-testid="message-status"][aria-label="sent"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('link-status').waitFor({ state: 'detached' });

    let kei: ArtpClient | null = null;
    try {
      kei = await connectClient(node);
      await kei.request({ type: 'AUTH', user: 'kei', password: PASSWORD });
      const history = await kei.request({ type: 'HISTORY', dest_type: 'channel', dest: CHANNEL, limit: 50 });
      expect(history.messages?.filter((m) => m.content === 'typed while the node was down')).toHaveLength(1);
    } finally {
      kei?.close();
    }
    expect(await page.getByText('typed while the node was down').count()).toBe(1);
    expect(await page.getByText('sent while you were away').count()).toBe(1);
    expect(crashes).toEqual([]);
  });

  it('keeps the device key as a non-extractable WebCrypto X25519 key in IndexedDB, not in local storage', async () => {
    const stored = await page.evaluate(
      () =>
        new Promise<{ extractable: boolean; algorithm: string; type: string; legacy: string | null }>((resolve, reject) => {
          const opened = indexedDB.open('aronanet');
          opened.onerror = () => reject(opened.error);
          opened.onsuccess = () => {
            const read = opened.result.transaction('keys').objectStore('keys').get('device');
            read.onerror = () => reject(read.error);
            read.onsuccess = () => {
              const key = (read.result as { privateKey: CryptoKey }).privateKey;
              resolve({ extractable: key.extractable, algorithm: key.algorithm.name, type: key.type, legacy: localStorage.getItem('aronanet.device_key') });
            };
          };
        }),
    );
    expect(stored).toEqual({ extractable: false, algorithm: 'X25519', type: 'private', legacy: null });
  });

  it('sends what was typed while the node was down exactly once, after a page reload, and stays signed in', async () => {
    const crashes: string[] = [];
    const consoleLines: string[] = [];
    page.on('pageerror', (error) => crashes.push(error.message));
    page.on('console', (line) => consoleLines.push(line.text()));
    let kei: ArtpClient | null = null;
    try {
      kei = await connectClient(node);
      await kei.request({ type: 'AUTH', user: 'kei', password: PASSWORD });
      await kei.request({ type: 'MSG', dest_type: 'user', dest: 'sensei', content: 'a DM for sensei' });
    } finally {
      kei?.close();
    }

    await node.halt();
    await page.getByTestId('link-status').waitFor();
    await page.getByTestId('composer').fill('typed offline, then reloaded');
    await page.getByTestId('send').click();
    await page.getByText('typed offline, then reloaded').waitFor();
    await page.waitForTimeout(300); // the IndexedDB write has committed by now (it precedes the bubble)

    const stopServing = await serveShellFromDisk(node.wsPort);
    await page.reload();
    // Signed in again from what the device remembers: the list, offline, no login screen.
    await page.getByTestId('conversation-#plaza').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('password').count()).toBe(0);

    await stopServing();
    await node.resume();
    await waitFor('the node to store the message', () => pythonHistory('kei', CHANNEL).includes('typed offline, then reloaded'), 40_000).catch(
      async (error: Error) => {
        throw new Error(`${error.message}; the page shows:\n${await page.locator('body').innerText()}\nconsole:\n${consoleLines.join('\n')}`);
      },
    );
    await page.waitForTimeout(1000); // time for a second copy, were one ever sent
    expect(pythonHistory('kei', CHANNEL).filter((content) => content === 'typed offline, then reloaded')).toHaveLength(1);
    await page.getByTestId('link-status').waitFor({ state: 'detached', timeout: 30_000 });

    await page.reload();
    await page.getByTestId('conversation-@kei').waitFor({ timeout: 30_000 }); // DMs still listed
    await page.getByTestId('conversation-#plaza').waitFor();
    expect(await page.getByTestId('password').count()).toBe(0);
    await page.getByTestId('conversation-#plaza').click();
    await page.getByText('typed offline, then reloaded').waitFor();
    expect(await page.getByText('typed offline, then reloaded').count()).toBe(1);
    expect(pythonHistory('kei', CHANNEL).filter((content) => content === 'typed offline, then reloaded')).toHaveLength(1);
    expect(crashes).toEqual([]);
  });

  it('asks for the password once when another device revokes this one, then carries on', async () => {
    let laptop: ArtpClient | null = null;
    try {
      laptop = await connectClient(node);
      await laptop.request({ type: 'AUTH', user: 'sensei', password: PASSWORD });
      const devices = (await laptop.request({ type: 'DEVICES' })).devices ?? [];
      const browserDevice = devices.find((device) => !device.current);
      expect(browserDevice?.name).toMatch(/Chrome on Linux/);
      await laptop.request({ type: 'DEVICE_REVOKE', device: browserDevice?.id ?? '' });
    } finally {
      laptop?.close();
    }
    await page.getByTestId('login-again').click();
    await page.getByTestId('user').fill('sensei');
    await page.getByTestId('password').fill(PASSWORD);
    await page.getByTestId('login').click();
    await page.getByTestId('conversation-@kei').waitFor();
    await page.getByTestId('link-status').waitFor({ state: 'detached' });
  });

  it('lists this device in the settings, says where its key is kept, and logs out for good', async () => {
    await page.reload();
    await page.getByTestId('open-settings').click();
    expect(await page.getByTestId('device-key-note').textContent()).toContain('non-extractable WebCrypto key');
    await page.getByText('(this device)').waitFor();
    await page.getByTestId('logout-revoke').click();
    await page.getByTestId('connect').waitFor();
    await page.reload();
    await page.getByTestId('connect').waitFor(); // forgotten: not signed in after a reload
  });

  it('moves a device key an earlier version kept as hex in local storage into WebCrypto, keeping its identity', async () => {
    const legacy = generateKeyPair(randomBytes);
    const { tab, close } = await registerInFreshBrowser('migrant', async (fresh) => {
      await fresh.goto(`${node.httpUrl}no-such-page`); // the node's origin, before the app has run
      await fresh.evaluate((hex) => localStorage.setItem('aronanet.device_key', hex), toHex(legacy.privateKey));
    });
    try {
      // The node knows this device by the legacy key's fingerprint: same identity, key moved.
      await tab.getByText(fingerprint(legacy.publicKey)).waitFor();
      expect(await tab.evaluate(() => localStorage.getItem('aronanet.device_key'))).toBeNull();
    } finally {
      await close();
    }
  });

  it('falls back to local storage where WebCrypto has no X25519, and says so in the settings', async () => {
    // A browser without X25519 in WebCrypto: generating or importing such a key is refused.
    const { tab, close } = await registerInFreshBrowser('oldbrowser', (fresh) =>
      fresh.addInitScript(() => {
        const subtle = crypto.subtle;
        const refuse = (name: 'generateKey' | 'importKey') => {
          const original = subtle[name].bind(subtle) as (...args: unknown[]) => Promise<unknown>;
          (subtle as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
            const algorithm = args[name === 'generateKey' ? 0 : 2] as { name?: string } | string;
            const named = typeof algorithm === 'string' ? algorithm : algorithm?.name;
            if (named === 'X25519') return Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
            return original(...args);
          };
        };
        refuse('generateKey');
        refuse('importKey');
      }),
    );
    try {
      const note = await tab.getByTestId('device-key-note').textContent();
      expect(note).toContain("plain bytes in this site's local storage");
      expect(note).toContain('Unrecognized name.');
      expect(await tab.evaluate(() => localStorage.getItem('aronanet.device_key'))).toMatch(/^[0-9a-f]{64}$/);
      await tab.reload(); // still signed in with that key
      await tab.getByTestId('open-settings').waitFor();
    } finally {
      await close();
    }
  });

  it('ran every step above under the Content-Security-Policy without a single violation', async () => {
    expect(cspViolations).toEqual([]);
    // and the styles really applied: react-native-web fills its sheet through the CSSOM
    const rules = await page.evaluate(() =>
      Array.from(document.styleSheets).reduce((count, sheet) => count + sheet.cssRules.length, 0),
    );
    expect(rules).toBeGreaterThan(20);
  });
});
