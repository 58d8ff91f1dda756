/**
 * ArTP/1.1 lifecycle in the web client, gesture by gesture, against a real node, at a phone's
 * size (touch: long-press, swipe) and a desktop's (mouse: hover, the ⋯ button, Up to edit), with
 * a second user ("kei") on the protocol library who sees what the browser does and does things
 * the browser must show: reply and jump to the quoted message, edit, delete, reaction toggle,
 * typing both ways, and search then jump. axe-core checks each new screen; screenshots go to the
 * temporary directory (aronanet-ui-<size>-l*.png).
 */
import type { CDPSession, Locator, Page } from 'playwright-core';

import type { ServerEvent } from '../../src/protocol/client';
import type { ArtpClient } from '../../src/protocol/client';
import {
  type Browser,
  closeBrowser,
  launchBrowser,
  screenshot,
  seriousAxeViolations,
  type ViewportName,
  waitFor,
} from '../support/browser';
import { registeredClient } from '../support/client';
import { startNode, type RunningNode } from '../support/node';
import { DIST } from '../support/paths';

const PASSWORD = 'correct horse battery';

/** Once no animation runs (a dialog fading in is half transparent: its contrast is not final). */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.getAnimations().every((animation) => animation.playState !== 'running'));
}

async function expectAccessible(page: Page): Promise<void> {
  await settled(page);
  expect(await seriousAxeViolations(page)).toEqual([]);
}

describe.each<ViewportName>(['phone', 'desktop'])('the lifecycle in the web client at %s size', (size) => {
  const wide = size === 'desktop';
  const user = `sensei_l${size}`;
  const channel = `#life_${size}`;
  let node: RunningNode;
  let browser: Browser;
  let page: Page;
  let kei: ArtpClient;
  let keiName: string;
  const seen: ServerEvent[] = [];
  let oldId = '';

  async function say(content: string, extra: { reply_to?: string } = {}): Promise<string> {
    const ok = await kei.request({ type: 'MSG', dest_type: 'channel', dest: channel, content, ...extra });
    return ok.msg_id as string;
  }

  /** kei saw an event of `type` matching `check`. */
  async function keiSees(type: string, check: (event: ServerEvent) => boolean): Promise<void> {
    await waitFor(`kei to see ${type}`, () => seen.some((event) => event.type === type && check(event)));
  }

  /** A bubble by its text (own messages keep a local key, so the text finds them). */
  function bubble(text: string): Locator {
    return page.locator('[data-message-id]').filter({ hasText: text }).last();
  }

  /** A finger on the screen (DevTools input: real touch events, as a phone's browser sends). */
  let touch: CDPSession;
  async function cdpTouch(type: 'touchStart' | 'touchMove' | 'touchEnd', x: number, y: number): Promise<void> {
    await touch.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y }] });
  }

  /** Open the actions of a message as a person would: long-press with a finger, or hover and ⋯. */
  async function openActions(target: Locator): Promise<void> {
    await target.scrollIntoViewIfNeeded();
    if (wide) {
      await target.hover();
      const button = target.locator('xpath=..').getByTestId('message-actions-button');
      await waitFor('the ⋯ button to show on hover', async () => (await button.evaluate((e) => getComputedStyle(e).opacity)) === '1');
      await button.click();
    } else {
      const box = await target.boundingBox();
      if (!box) throw new Error('no bubble to press');
      const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
      await cdpTouch('touchStart', x, y);
      await page.waitForTimeout(800);
      await cdpTouch('touchEnd', x, y);
    }
    await page.getByTestId('message-actions').waitFor();
    await settled(page);
    // A person reads the menu before tapping: the lifted finger's own click is long gone.
    if (!wide) await page.waitForTimeout(500);
  }

  beforeAll(async () => {
    node = await startNode({ webDir: DIST });
    [kei, keiName] = await registeredClient(node, 'kei');
    kei.onEvent((event) => seen.push(event));
    await kei.request({ type: 'JOIN', channel });
    oldId = await say('the original plan: meet at the plaza');
    for (let n = 1; n <= 70; n += 1) await say(`chatter ${n}`);
    browser = await launchBrowser(size);
    page = browser.page;
    touch = await browser.context.newCDPSession(page);
  }, 90_000);

  afterAll(async () => {
    kei?.close();
    await closeBrowser(browser);
    await node?.stop();
  });

  it('signs up and opens the channel', async () => {
    await page.goto(node.httpUrl);
    await page.getByTestId('connect').click();
    await page.getByTestId('trust-node').click();
    await page.getByTestId('user').fill(user);
    await page.getByTestId('password').fill(PASSWORD);
    await page.getByTestId('register').click();
    await page.getByTestId('start-target').fill(channel);
    await page.getByTestId('start-target').press('Enter');
    await page.getByTestId('messages').getByText('chatter 70', { exact: true }).waitFor();
  });

  it('reacts from the menu, shows a chip that toggles, and shows kei\'s reaction', async () => {
    const target = bubble('chatter 70');
    const id = await target.getAttribute('data-message-id');
    await openActions(target);
    await expectAccessible(page);
    await screenshot(page, size, 'l1-menu');
    await page.getByTestId('react-👍').click();
    const chip = target.locator('xpath=../..').getByTestId('reaction-👍');
    await chip.waitFor();
    expect(await chip.getAttribute('aria-pressed')).toBe('true');
    expect(await chip.textContent()).toBe('👍1');
    await keiSees('REACTION', (e) => e.type === 'REACTION' && e.msg_id === id && e.added && e.count === 1);

    await kei.request({ type: 'REACT', msg_id: id as string, emoji: '🎉' });
    const party = target.locator('xpath=../..').getByTestId('reaction-🎉');
    await party.waitFor();
    expect(await party.getAttribute('aria-pressed')).toBe('false');
    expect(await party.getAttribute('aria-label')).toContain(`by ${keiName}`);
    await kei.request({ type: 'REACT', msg_id: id as string, emoji: '👍' });
    await waitFor('the count of two', async () => (await chip.textContent()) === '👍2');
    await screenshot(page, size, 'l2-chips');
    await expectAccessible(page);

    await chip.click(); // toggles mine off: kei's stays
    await waitFor('my reaction gone', async () => (await chip.textContent()) === '👍1');
    expect(await chip.getAttribute('aria-pressed')).toBe('false');
    await keiSees('REACTION', (e) => e.type === 'REACTION' && e.msg_id === id && !e.added && e.count === 1);
  });

  it('replies (a swipe on a phone, the menu on a desktop) and kei sees the reply', async () => {
    const target = bubble('chatter 69');
    const id = await target.getAttribute('data-message-id');
    if (wide) {
      await openActions(target);
      await page.getByTestId('action-reply').click();
    } else {
      await target.scrollIntoViewIfNeeded();
      const box = await target.boundingBox();
      if (!box) throw new Error('no bubble to swipe');
      const [x, y] = [box.x + 20, box.y + box.height / 2];
      await cdpTouch('touchStart', x, y);
      for (let dx = 10; dx <= 110; dx += 10) await cdpTouch('touchMove', x + dx, y + 1);
      await cdpTouch('touchEnd', x + 110, y + 1);
    }
    await page.getByTestId('composer-reply').waitFor();
    expect(await page.getByTestId('composer-reply').textContent()).toContain(`Replying to ${keiName}`);
    await page.getByTestId('composer').fill('agreed, chatter 69 it is');
    await page.getByTestId('composer').press('Enter');
    await page.getByTestId('composer-reply').waitFor({ state: 'detached' });
    await keiSees('MSG', (e) => e.type === 'MSG' && e.reply_to === id && e.content === 'agreed, chatter 69 it is');
    const mine = bubble('agreed, chatter 69 it is');
    await mine.getByTestId('reply-quote').waitFor();
    expect(await mine.getByTestId('reply-quote').textContent()).toContain('chatter 69');
  });

  it('jumps from a quote to a message not loaded yet (HISTORY around) and highlights it', async () => {
    await say('about that first plan…', { reply_to: oldId });
    const reply = bubble('about that first plan');
    await reply.waitFor();
    expect(await page.locator(`[data-message-id="${oldId}"]`).count()).toBe(0); // 70 back: not loaded
    await screenshot(page, size, 'l3-quote');
    await reply.getByTestId('reply-quote').click();
    const original = page.locator(`[data-message-id="${oldId}"]`);
    await original.waitFor();
    await waitFor('the original in view', async () => {
      const list = await page.getByTestId('messages').boundingBox();
      const box = await original.boundingBox();
      return !!list && !!box && box.y >= list.y && box.y + box.height <= list.y + list.height;
    });
    // Highlighted for a moment: the accent border.
    expect(await original.evaluate((e) => getComputedStyle(e).borderTopWidth)).toBe('2px');
    await screenshot(page, size, 'l4-jumped');
    await page.getByTestId('theme-toggle').first().click(); // the quote, chips and highlight in the dark palette
    await expectAccessible(page);
    await screenshot(page, size, 'l4b-dark');
    await page.getByTestId('theme-toggle').first().click();
    await waitFor('the highlight to fade', async () => (await original.evaluate((e) => getComputedStyle(e).borderTopWidth)) === '1px', 6000);
  });

  it('edits my message (Up on a desktop, the menu on a phone) and both sides show it', async () => {
    await page.getByTestId('composer').fill('see you at the plazza');
    await page.getByTestId('composer').press('Enter');
    const mine = bubble('see you at the plazza');
    await mine.waitFor();
    await waitFor('sent', async () => (await mine.getAttribute('data-message-id')) !== null);
    const id = await mine.getAttribute('data-message-id');
    if (wide) {
      await page.getByTestId('composer').focus();
      await page.keyboard.press('ArrowUp');
    } else {
      await openActions(mine);
      await page.getByTestId('action-edit').click();
    }
    await page.getByTestId('composer-editing').waitFor();
    expect(await page.getByTestId('composer').inputValue()).toBe('see you at the plazza');
    await screenshot(page, size, 'l5-editing');
    await page.getByTestId('composer').fill('see you at the plaza');
    await page.getByTestId('composer').press('Enter');
    const edited = page.locator(`[data-message-id="${id}"]`);
    await edited.getByText('see you at the plaza', { exact: true }).waitFor();
    await edited.getByTestId('message-edited').waitFor();
    await keiSees('EDIT', (e) => e.type === 'EDIT' && e.msg_id === id && e.content === 'see you at the plaza');
    // kei's edit shows here too
    const keis = await say('a typo from kei');
    await kei.request({ type: 'EDIT', msg_id: keis, content: 'no typo from kei' });
    await page.locator(`[data-message-id="${keis}"]`).getByText('no typo from kei').waitFor();
  });

  it('deletes my message after asking, leaving a tombstone on both sides', async () => {
    await page.getByTestId('composer').fill('oops, wrong channel');
    await page.getByTestId('composer').press('Enter');
    const mine = bubble('oops, wrong channel');
    await waitFor('sent', async () => (await mine.getAttribute('data-message-id')) !== null);
    const id = await mine.getAttribute('data-message-id');
    await openActions(mine);
    await page.getByTestId('action-delete').click();
    await page.getByTestId('confirm-delete').waitFor();
    await expectAccessible(page);
    await screenshot(page, size, 'l6-confirm-delete');
    await page.getByTestId('confirm-delete-yes').click();
    const tomb = page.locator(`[data-message-id="${id}"]`);
    await tomb.getByTestId('message-deleted').waitFor();
    expect(await page.getByTestId('messages').getByText('oops, wrong channel').count()).toBe(0);
    await keiSees('DELETE', (e) => e.type === 'DELETE' && e.msg_id === id);
  });

  it('shows kei typing, and kei sees me typing', async () => {
    await kei.request({ type: 'TYPING', dest_type: 'channel', dest: channel, typing: true });
    await page.getByTestId('typing-line').filter({ hasText: `${keiName} is typing…` }).waitFor();
    await screenshot(page, size, 'l7-typing');
    await say('done typing');
    await page.getByTestId('typing-line').waitFor({ state: 'detached' }); // a message ends it
    await page.getByTestId('composer').pressSequentially('hello th', { delay: 20 });
    await keiSees('TYPING', (e) => e.type === 'TYPING' && e.from === user && e.typing);
    await page.getByTestId('composer').fill('');
    await keiSees('TYPING', (e) => e.type === 'TYPING' && e.from === user && !e.typing);
  });

  it('searches, marks the matched words, and jumps to a result in context', async () => {
    if (!wide && (await page.getByTestId('back').count()) > 0) await page.getByTestId('back').click();
    await page.getByTestId('open-search').click();
    await page.getByTestId('search-query').fill('plaza');
    await page.getByTestId('search-query').press('Enter');
    const results = page.getByTestId('search-results');
    await results.waitFor();
    const rows = results.locator('[data-testid^="search-result-"]');
    await waitFor('two results', async () => (await rows.count()) === 2);
    // Newest first: my edited message, then kei's original.
    expect(await rows.first().getAttribute('data-testid')).not.toBe(`search-result-${oldId}`);
    expect(await rows.last().getAttribute('data-testid')).toBe(`search-result-${oldId}`);
    expect(await results.getByTestId('search-mark').allTextContents()).toEqual(['plaza', 'plaza']);
    await expectAccessible(page);
    await screenshot(page, size, 'l8-search');
    await rows.last().click();
    const original = page.locator(`[data-message-id="${oldId}"]`);
    await original.waitFor();
    await waitFor('the result in view', async () => {
      const list = await page.getByTestId('messages').boundingBox();
      const box = await original.boundingBox();
      return !!list && !!box && box.y >= list.y && box.y + box.height <= list.y + list.height;
    });
    await screenshot(page, size, 'l9-search-jump');
  });

  it('ran every step under the node\'s Content-Security-Policy without a violation', () => {
    expect(browser.cspViolations).toEqual([]);
  });
});
