/**
 * The web client as a person uses it, at a phone's size (390×844) and a desktop's (1280×800),
 * against a real node, with a second user ("kei") on the protocol library: the first-use
 * question, Enter in every field, a conversation that opens at the newest message or the first
 * unread and stays pinned, the "new messages" pill, a DM to nobody, leaving, logging out, the
 * reconnect "retry now", the two-pane layout, notifications, shortcuts, the offline shell, and
 * axe-core's accessibility rules on every screen. Screenshots go to the temporary directory.
 */
import type { Page } from 'playwright-core';

import type { ArtpClient } from '../../src/protocol/client';
import {
  type Browser,
  closeBrowser,
  inListView,
  launchBrowser,
  listScroll,
  screenshot,
  seriousAxeViolations,
  type ViewportName,
  waitFor,
} from '../support/browser';
import { connectClient, registeredClient } from '../support/client';
import { startNode, type RunningNode } from '../support/node';
import { DIST } from '../support/paths';

const PASSWORD = 'correct horse battery';

async function expectAccessible(page: Page): Promise<void> {
  expect(await seriousAxeViolations(page)).toEqual([]);
}

async function send(kei: ArtpClient, dest: string, content: string, destType: 'channel' | 'user' = 'channel'): Promise<void> {
  await kei.request({ type: 'MSG', dest_type: destType, dest, content });
}

describe.each<ViewportName>(['phone', 'desktop'])('the web client at %s size', (size) => {
  const wide = size === 'desktop';
  const user = `sensei_${size}`;
  const channel = `#plaza_${size}`;
  const quiet = `#quiet_${size}`;
  let node: RunningNode;
  let browser: Browser;
  let page: Page;
  let kei: ArtpClient;
  let keiName: string;
  const failed: string[] = [];

  beforeAll(async () => {
    node = await startNode({ webDir: DIST });
    [kei, keiName] = await registeredClient(node, 'kei');
    await kei.request({ type: 'JOIN', channel });
    await kei.request({ type: 'JOIN', channel: quiet });
    for (let n = 1; n <= 60; n += 1) await send(kei, channel, `history line ${n}`);
    browser = await launchBrowser(size);
    page = browser.page;
    page.on('response', (response) => response.status() >= 400 && failed.push(`${response.status()} ${response.url()}`));
  }, 60_000);

  afterAll(async () => {
    kei?.close();
    await closeBrowser(browser);
    await node?.stop();
  });

  /** Open a conversation from the list (on a phone, from the list screen). */
  async function openConversation(key: string): Promise<void> {
    if (!wide && (await page.getByTestId('back').count()) > 0) await page.getByTestId('back').click();
    await page.getByTestId(`conversation-${key}`).click();
  }

  it('loads with a splash, a favicon and a manifest, and nothing answers 404', async () => {
    const html = await (await fetch(node.httpUrl)).text();
    expect(html).toContain('class="splash"');
    expect(html).toContain('rel="manifest"');
    await page.goto(node.httpUrl);
    await page.getByTestId('connect').waitFor();
    expect(await page.locator('.splash').count()).toBe(0); // the app replaced it
    const icon = await page.locator('link[rel="icon"]').first().getAttribute('href');
    expect((await fetch(new URL(icon ?? '', node.httpUrl))).status).toBe(200);
    expect(failed).toEqual([]);
    await expectAccessible(page);
  });

  it('asks before pinning a first-use key, showing the fingerprint grouped in monospace', async () => {
    await page.getByTestId('address').press('Enter'); // Enter submits the address
    await page.getByTestId('first-use').waitFor();
    const shown = page.getByTestId('first-use-fingerprint');
    expect((await shown.textContent())?.replace(/[\s]/g, '')).toBe(node.fingerprint());
    expect(await shown.textContent()).toMatch(/^SHA256: (\S{4} ){10}\S{3}$/);
    expect(await shown.evaluate((e) => getComputedStyle(e).fontFamily)).toMatch(/mono/i);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes('known_node')))).toEqual([]);
    await screenshot(page, size, '1-first-use');
    await expectAccessible(page);

    await page.getByTestId('refuse-node').click();
    await page.getByTestId('first-use').waitFor({ state: 'detached' });
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes('known_node')))).toEqual([]);

    await page.getByTestId('connect').click();
    await page.getByTestId('trust-node').click();
    await page.getByTestId('user').waitFor();
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes('known_node')))).toHaveLength(1);
  });

  it('registers, and Enter in the user name moves on to the password', async () => {
    await page.getByTestId('user').fill(user);
    await page.getByTestId('user').press('Enter');
    expect(await page.getByTestId('password').evaluate((e) => e === document.activeElement)).toBe(true);
    await page.getByTestId('password').fill(PASSWORD);
    await expectAccessible(page);
    await page.getByTestId('register').click();
    await page.getByTestId('start-target').waitFor();
    expect(await page.getByTestId('header').first().textContent()).not.toMatch(/Sensei sensei/i);
  });

  it('joins with Enter and opens the channel at its newest message', async () => {
    await page.getByTestId('start-target').fill(quiet);
    await page.getByTestId('start-target').press('Enter');
    await page.getByTestId('messages').waitFor();
    await page.getByTestId('start-target').or(page.getByTestId('back')).first().waitFor();
    if (!wide) await page.getByTestId('back').click();
    await page.getByTestId('start-target').fill(channel);
    await page.getByTestId('start-target').press('Enter');
    await page.getByTestId('messages').getByText('history line 60', { exact: true }).waitFor();
    await waitFor('the list to settle at the bottom', async () => (await listScroll(page)).fromBottom < 4);
    expect(await inListView(page, 'text=history line 60')).toBe(true);
    await screenshot(page, size, '2-channel');
    await expectAccessible(page);
  });

  it('stays pinned to the bottom as messages arrive and as I send', async () => {
    await send(kei, channel, 'a live line from kei');
    await page.getByTestId('messages').getByText('a live line from kei').waitFor();
    await waitFor('the list to follow', async () => (await listScroll(page)).fromBottom < 4);
    expect(await page.getByTestId('new-messages').count()).toBe(0);
    await page.getByTestId('composer').fill('my answer');
    await page.getByTestId('composer').press('Enter'); // Enter sends
    await page.locator('[data-testid="message-status"][aria-label="sent"]').last().waitFor();
    await waitFor('the list to show my message', async () => (await listScroll(page)).fromBottom < 4).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(await listScroll(page))}`);
    });
    expect(await page.getByTestId('composer').inputValue()).toBe('');
  });

  /** The unread count of `key` on the node, as another device of the same user sees it (§14.5). */
  async function unreadElsewhere(key: string): Promise<number | undefined> {
    const other = await connectClient(node);
    try {
      await other.request({ type: 'AUTH', user, password: PASSWORD });
      const ok = await other.request({ type: 'CONVERSATIONS' });
      return ok.conversations?.find((c) => c.dest === key)?.unread;
    } finally {
      other.close();
    }
  }

  it('shows a "new messages" pill when scrolled up, and jumps down when pressed; reads only at the bottom', async () => {
    await page.getByTestId('messages').evaluate((e) => e.scrollTo({ top: e.scrollHeight / 2 }));
    let last = -1;
    await waitFor('the scroll to land and stop', async () => {
      const now = await listScroll(page);
      const still = now.top === last && now.fromBottom > 200;
      last = now.top;
      return still;
    });
    const before = await listScroll(page);
    await send(kei, channel, 'while you were reading');
    await send(kei, channel, 'and another');
    await page.getByTestId('messages').getByText('and another').waitFor({ state: 'attached' });
    await page.getByTestId('new-messages').waitFor();
    const after = await listScroll(page);
    expect(after.fromBottom).toBeGreaterThan(150); // not dragged down: the text being read stays put
    expect(Math.abs(after.top - before.top)).toBeLessThan(4);
    await new Promise((resolve) => setTimeout(resolve, 500)); // time enough for a READ, were one sent
    expect(await unreadElsewhere(channel)).toBe(2); // scrolled up: not read
    await screenshot(page, size, '3-pill');
    await page.getByTestId('new-messages').click();
    await waitFor('the jump to the bottom', async () => (await listScroll(page)).fromBottom < 4);
    await page.getByTestId('new-messages').waitFor({ state: 'detached' });
    await waitFor('the READ at the bottom', async () => (await unreadElsewhere(channel)) === 0);
  });

  it('groups a sender\'s messages, with times, a day separator and ticks instead of words', async () => {
    expect(await page.getByTestId('day-separator').first().textContent()).toBe('Today');
    expect(await page.getByTestId('message-time').last().textContent()).toMatch(/\d{1,2}:\d{2}/);
    expect(await page.getByText('sent', { exact: true }).count()).toBe(0);
    expect(await page.locator('[data-testid="message-status"][aria-label="sent"]').last().textContent()).toBe('✓');
    // 60 history lines and 2 live ones from kei within minutes: the name shows once per group.
    const names = await page.getByTestId('messages').getByText(keiName, { exact: true }).count();
    expect(names).toBeGreaterThan(0);
    expect(names).toBeLessThanOrEqual(3);
  });

  it('opens at the first unread message under an "unread" line', async () => {
    await openConversation(quiet);
    if (!wide) await page.getByTestId('back').click(); // the list, where the badge shows
    for (let n = 1; n <= 40; n += 1) await send(kei, channel, n === 7 ? `@${user} unread line ${n}` : `unread line ${n}`);
    await page.getByTestId(`unread-${channel}`).filter({ hasText: '40 unread' }).waitFor();
    // The mentions apart, "@1" to the eye, "1 mention" to a screen reader (the "@" is aria-hidden).
    expect(await page.getByTestId(`mentions-${channel}`).textContent()).toBe('@1 mention');
    expect(await page.getByTestId(`mentions-${channel}`).locator('[aria-hidden="true"]').textContent()).toBe('@');
    await expectAccessible(page);
    await screenshot(page, size, '4-list-unread');
    await openConversation(channel);
    await page.getByTestId('unread-line').waitFor();
    await waitFor('the unread line in view', () => inListView(page, '[data-testid="unread-line"]'));
    const line = await page.getByTestId('unread-line').boundingBox();
    const list = await page.getByTestId('messages').boundingBox();
    expect(line && list && line.y - list.y).toBeLessThan(60); // at the top, the unread below it
    expect((await listScroll(page)).fromBottom).toBeGreaterThan(100);
    await screenshot(page, size, '5-unread-line');
  });

  it('refuses a DM to a user who does not exist where the user is, leaving no chat behind', async () => {
    if (!wide) await page.getByTestId('back').click();
    await page.getByTestId('start-target').fill('@nobody_here');
    await page.getByTestId('start-target').press('Enter');
    const error = page.getByTestId('start-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('NO_SUCH_USER');
    expect(await error.isVisible()).toBe(true);
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await page.getByTestId('conversation-@nobody_here').count()).toBe(0);
    await screenshot(page, size, '6-dm-error');
  });

  it(`lays the screens out for a ${size}`, async () => {
    await openConversation(channel);
    await page.getByTestId('messages').waitFor();
    const list = page.getByTestId('start-target');
    if (wide) {
      expect(await list.isVisible()).toBe(true); // the list beside the chat
      const column = await page.locator('[role="list"][aria-label^="Messages"]').boundingBox();
      expect(column?.width).toBeLessThanOrEqual(760);
      expect(await page.getByTestId('back').count()).toBe(0);
    } else {
      expect(await list.count()).toBe(0);
      const back = await page.getByTestId('back').boundingBox();
      const title = await page.getByTestId('header-title').boundingBox();
      expect(back && title && back.x < title.x).toBe(true); // the chevron on the left
    }
    const bubble = await page.getByTestId('messages').getByText('history line 60', { exact: true }).boundingBox();
    expect(bubble?.width).toBeLessThan(620);
    expect(await page.getByTestId('composer').evaluate((e) => e.tagName)).toBe('TEXTAREA');
    await expectAccessible(page);
    await page.getByTestId('theme-toggle').first().click(); // and in the dark palette
    await expectAccessible(page);
    await screenshot(page, size, '6b-dark');
    await page.getByTestId('theme-toggle').first().click();
  });

  it('retries at once on "retry now" and when the tab becomes visible', async () => {
    await node.halt();
    await page.getByTestId('link-status').waitFor();
    await page.getByTestId('retry-now').waitFor({ timeout: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 9_000)); // the next timed attempt is seconds away
    await node.resume();
    // "Retry now", unless an attempt that was waiting on the halted node has already
    // reconnected (then the banner changes under the click and goes away by itself).
    await page.getByTestId('retry-now').click({ timeout: 3_000 }).catch(() => undefined);
    await page.getByTestId('link-status').waitFor({ state: 'detached', timeout: 3_000 });

    await node.halt();
    await page.getByTestId('retry-now').waitFor({ timeout: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    await node.resume();
    await page.evaluate(() => {
      // The tab goes to the background and comes back.
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await page.getByTestId('link-status').waitFor({ state: 'detached', timeout: 3_000 });
    kei.close(); // its link went with the node
    kei = await connectClient(node);
    await kei.request({ type: 'AUTH', user: keiName, password: PASSWORD });
  });

  it('leaves a channel, after asking', async () => {
    await openConversation(quiet);
    await page.getByTestId('leave').click();
    await page.getByTestId('confirm-leave-yes').click();
    await page.getByTestId(`conversation-${channel}`).waitFor(); // the list, on a phone too
    await page.getByTestId(`conversation-${quiet}`).waitFor({ state: 'detached' });
    const ok = await kei.request({ type: 'JOIN', channel: quiet });
    expect(ok.members).not.toContain(user);
  });

  it('logs out, and Enter in the password field logs back in', async () => {
    await page.getByTestId('logout').click();
    await page.getByTestId('address').waitFor();
    await page.getByTestId('address').press('Enter');
    await page.getByTestId('user').fill(user); // the key is pinned now: no question
    await page.getByTestId('password').fill(PASSWORD);
    await page.getByTestId('password').press('Enter');
    await page.getByTestId(`conversation-${channel}`).waitFor();
  });

  it('ran every step above under the node\'s Content-Security-Policy without a violation', () => {
    expect(browser.cspViolations).toEqual([]);
  });

  if (!wide) return;

  it('raises a notification for a DM and a mention while the tab is hidden, after the user asked', async () => {
    await browser.context.grantPermissions(['notifications'], { origin: node.httpUrl.replace(/\/$/, '') });
    // A string: jest's Babel would compile a class into helpers the page does not have.
    await page.evaluate(`(() => {
      const shown = [];
      window.shown = shown;
      const Real = window.Notification;
      class Recording extends Real {
        constructor(title, options) {
          super(title, options);
          shown.push(title + ': ' + (options && options.body ? options.body : ''));
        }
      }
      Object.defineProperty(window, 'Notification', { value: Recording, configurable: true });
    })()`);
    await page.getByTestId('notifications').click();
    await page.getByTestId('notifications').waitFor({ state: 'detached' });
    await page.evaluate(() => Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' }));
    await send(kei, user, 'psst, sensei', 'user');
    await send(kei, channel, 'nothing for anyone');
    await send(kei, channel, `${user}: look at this`);
    const shown = () => page.evaluate(() => (window as unknown as { shown: string[] }).shown);
    await waitFor('two notifications', async () => (await shown()).length >= 2);
    expect(await shown()).toEqual([`${keiName}: psst, sensei`, `${keiName} in ${channel}: ${user}: look at this`]);
    await page.evaluate(() => Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' }));
  });

  it('switches conversations with Ctrl-K and Alt-arrows; Esc closes the switcher', async () => {
    await page.keyboard.press('Control+k');
    await page.getByTestId('switcher').waitFor();
    await page.locator('[role="dialog"][aria-label="Switch conversation"]').waitFor(); // once the Modal is active
    await expectAccessible(page);
    await screenshot(page, size, '7-switcher');
    await page.keyboard.press('Escape');
    await page.getByTestId('switcher').waitFor({ state: 'detached' });
    await page.keyboard.press('Control+k');
    await page.getByTestId('switcher-query').fill(keiName);
    await page.getByTestId('switcher-query').press('Enter');
    await page.getByTestId('header-title').filter({ hasText: `@${keiName}` }).waitFor();
    const titles = () => page.getByTestId('header-title').allTextContents();
    const before = await titles();
    await page.keyboard.press('Alt+ArrowDown');
    await waitFor('another conversation', async () => JSON.stringify(await titles()) !== JSON.stringify(before));
  });

  it('is installable, and opens with the node down: the shell, the conversations and their latest messages', async () => {
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    const cdp = await browser.context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
    expect(installabilityErrors).toEqual([]);
    await node.halt();
    await page.reload();
    // The shell from the service worker, the account, the conversations and their newest
    // messages from the device (IndexedDB): signed in, offline, with the reconnect banner.
    await page.getByTestId('header-title').filter({ hasText: 'Conversations' }).waitFor();
    await page.getByTestId('retry-now').waitFor();
    await page.getByTestId(`conversation-@${keiName.toLowerCase()}`).waitFor();
    await page.getByTestId(`conversation-${channel}`).click();
    const mention = page.getByTestId('messages').getByText(`${user}: look at this`);
    await mention.waitFor();
    await screenshot(page, size, '8-offline-shell');
    await page.getByTestId('composer').fill('typed with the node down'); // to the outbox
    await page.getByTestId('composer').press('Enter');
    await page.locator('[data-testid="message-status"][aria-label="sending…"]').last().waitFor();
    await node.resume();
    // "Retry now", unless an attempt that was waiting on the halted node has already
    // reconnected (then the banner changes under the click and goes away by itself).
    await page.getByTestId('retry-now').click({ timeout: 3_000 }).catch(() => undefined);
    await page.getByTestId('link-status').waitFor({ state: 'detached', timeout: 20_000 });
    await page.locator('[data-testid="message-status"][aria-label="sending…"]').waitFor({ state: 'detached' });
    // Reconciled with the node: each message once.
    expect(await page.getByTestId('messages').getByText('typed with the node down').count()).toBe(1);
    expect(await mention.count()).toBe(1);
    expect(await page.getByTestId('messages').getByText('nothing for anyone', { exact: true }).count()).toBe(1);
    expect(browser.cspViolations).toEqual([]); // the service worker and manifest included
  });
});
