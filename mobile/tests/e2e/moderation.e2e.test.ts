/**
 * Moderation in the web client against a real node (ArTP/1.1 §14.16-14.21), in headless
 * Chromium at a phone's size (390×844) and a desktop's (1280×800): an operator ("kei", on the
 * protocol library) voices, kicks and bans the web client's user, who sees each as a line in
 * Arona's words, the channel closing with the reason, and BANNED explained when joining again;
 * the web user as a channel's owner kicks kei from the member sheet and sets a mode. Then an
 * invitation: the app opened with `#invite=…&fp=…` pins the key without asking and registers
 * on an invite-only node. Screenshots go to the temporary directory.
 */
import { execFileSync } from 'node:child_process';

import type { Page } from 'playwright-core';

import type { ArtpClient, ServerEvent } from '../../src/protocol/client';
import { parseInviteLink } from '../../src/protocol/moderation';
import { type Browser, closeBrowser, launchBrowser, screenshot, seriousAxeViolations, type ViewportName, waitFor } from '../support/browser';
import { connectClient, registeredClient } from '../support/client';
import { startNode, type RunningNode } from '../support/node';
import { DIST, PYTHON } from '../support/paths';

const PASSWORD = 'correct horse battery';

async function registerInBrowser(page: Page, node: RunningNode, user: string): Promise<void> {
  await page.goto(node.httpUrl);
  await page.getByTestId('connect').click();
  await page.getByTestId('trust-node').click();
  await page.getByTestId('user').fill(user);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('register').click();
  await page.getByTestId('start-target').waitFor();
}

async function openChannel(page: Page, channel: string, wide: boolean): Promise<void> {
  if (!wide && (await page.getByTestId('back').count()) > 0) await page.getByTestId('back').click();
  await page.getByTestId('start-target').fill(channel);
  await page.getByTestId('start-target').press('Enter');
  await page.getByTestId('channel-members').waitFor();
}

describe.each<ViewportName>(['phone', 'desktop'])('moderation in the web client at %s size', (size) => {
  const wide = size === 'desktop';
  const user = `mod_${size}`;
  const channel = `#guard_${size}`;
  const mine = `#mine_${size}`;
  let node: RunningNode;
  let browser: Browser;
  let page: Page;
  let kei: ArtpClient;
  let keiName: string;
  const keiEvents: ServerEvent[] = [];

  beforeAll(async () => {
    node = await startNode({ webDir: DIST });
    [kei, keiName] = await registeredClient(node, 'kei');
    kei.onEvent((event) => keiEvents.push(event));
    await kei.request({ type: 'JOIN', channel }); // kei owns it
    browser = await launchBrowser(size);
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    kei?.close();
    await closeBrowser(browser);
    await node?.stop();
  });

  it('shows the owner mark, and a voice given by the operator as a line', async () => {
    await registerInBrowser(page, node, user);
    await openChannel(page, channel, wide);
    await waitFor('the owner mark', async () => (await page.getByTestId('channel-members').textContent())?.includes(`~${keiName}`) ?? false);
    await kei.request({ type: 'ROLE', channel, user, role: 'voiced' });
    await page.getByTestId('messages').getByText(`⚑ ${keiName} made you voiced of ${channel}`).waitFor();
    await waitFor('the voice mark', async () => (await page.getByTestId('channel-members').textContent())?.includes(`+${user}`) ?? false);
  });

  it('closes the channel on a kick and says why; a ban keeps me out, explained', async () => {
    await kei.request({ type: 'KICK', channel, user, reason: 'too loud' });
    await page.getByTestId('removed-notice').getByText(`you were kicked from ${channel} by ${keiName}: too loud`).waitFor();
    await screenshot(page, size, 'moderation-1-kicked');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await openChannel(page, channel, wide); // a kick lets me back
    await kei.request({ type: 'BAN', channel, user, reason: 'spam' });
    await page.getByTestId('removed-notice').getByText(`you were banned from ${channel} by ${keiName}: spam`).waitFor();
    if (!wide && (await page.getByTestId('back').count()) > 0) await page.getByTestId('back').click();
    await page.getByTestId('start-target').fill(channel);
    await page.getByTestId('start-target').press('Enter');
    await page.getByText(/banned from that channel/).first().waitFor();
    await screenshot(page, size, 'moderation-2-banned');
  });

  it('lets me, as a channel owner, kick from the member sheet and set modes', async () => {
    await openChannel(page, mine, wide);
    await kei.request({ type: 'JOIN', channel: mine });
    await waitFor('kei in the list', async () => (await page.getByTestId('channel-members').textContent())?.includes(keiName) ?? false);
    await page.getByTestId('open-members').click();
    await page.getByTestId(`member-${keiName}`).click();
    await page.getByTestId('moderation-reason').fill('test kick');
    // react-native-web names the sheet a dialog once it is the active modal (after its fade-in
    // effect); aria-modal without that role is what axe sees in between.
    await page.getByRole('dialog', { name: `Members of ${mine}` }).waitFor();
    await screenshot(page, size, 'moderation-3-member-sheet');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByTestId('member-kick').click();
    await waitFor('kei to get the kick', () =>
      keiEvents.some((e) => e.type === 'MODERATION' && e.action === 'kick' && e.channel === mine && e.reason === 'test kick'),
    );
    await page.getByTestId('mode-moderated').click();
    await waitFor('the mode to show as on', async () => (await page.getByTestId('mode-moderated').getAttribute('aria-pressed')) === 'true');
    const info = await kei.request({ type: 'CHANNEL_INFO', channel: mine });
    expect(info.modes?.moderated).toBe(true);
    await page.getByTestId('close-members').click();
    await page.getByTestId('messages').getByText(`⚑ ${keiName} was kicked from ${mine} by ${user}: test kick`).waitFor();
    await page.getByTestId('messages').getByText(`⚑ ${user} set ${mine} to moderated (only voiced members post)`).waitFor();
    await screenshot(page, size, 'moderation-4-lines');
  });
});

describe('an invitation link at phone size', () => {
  let node: RunningNode;
  let browser: Browser;

  beforeAll(async () => {
    node = await startNode({ webDir: DIST, args: ['--registration', 'invite'] });
    browser = await launchBrowser('phone');
  }, 60_000);

  afterAll(async () => {
    await closeBrowser(browser);
    await node?.stop();
  });

  it('opens with #invite=…&fp=…, pins the key without asking and registers with the token', async () => {
    const printed = execFileSync(PYTHON, ['-m', 'aronanet.cli', 'admin', '--data-dir', node.dataDir, 'invite', '--address', `127.0.0.1:${node.tcpPort}`, '--no-qr'], {
      encoding: 'utf8',
    });
    const link = parseInviteLink(printed.split('\n').find((line) => line.startsWith('aronanet://')) ?? '');
    expect(link?.fingerprint).toBe(node.fingerprint());
    const page = browser.page;
    // without the invitation, registering is refused in words
    const [other] = await Promise.all([connectClient(node)]);
    await expect(other.request({ type: 'AUTH', user: 'nobody', password: PASSWORD, register: true })).rejects.toMatchObject({ code: 'REGISTRATION_CLOSED' });
    other.close();

    await page.goto(`${node.httpUrl}#invite=${link?.token}&fp=${encodeURIComponent(link?.fingerprint ?? '')}`);
    await page.getByTestId('invite-notice').waitFor();
    await screenshot(page, 'phone', 'invite-1-connect');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByTestId('connect').click();
    await page.getByTestId('invited').waitFor(); // no first-use question: the link named the key
    expect(await page.getByTestId('first-use').count()).toBe(0);
    await page.getByTestId('user').fill('newcomer');
    await page.getByTestId('password').fill(PASSWORD);
    await screenshot(page, 'phone', 'invite-2-register');
    await page.getByTestId('register').click();
    await page.getByTestId('start-target').waitFor();
    const pinned = await page.evaluate(() =>
      Object.keys(localStorage)
        .filter((k) => k.includes('known_node'))
        .map((k) => localStorage.getItem(k))
        .join(' '),
    );
    expect(pinned).toContain(link?.fingerprint);
    await screenshot(page, 'phone', 'invite-3-signed-in');
  });

  it('refuses a link naming another key, before registering', async () => {
    const printed = execFileSync(PYTHON, ['-m', 'aronanet.cli', 'admin', '--data-dir', node.dataDir, 'invite', '--no-qr', '--address', 'x:1'], { encoding: 'utf8' });
    const link = parseInviteLink(printed.split('\n').find((line) => line.startsWith('aronanet://')) ?? '');
    const fresh = await launchBrowser('phone');
    try {
      await fresh.page.goto(node.httpUrl);
      await fresh.page.getByTestId('address').fill(`aronanet://127.0.0.1:${node.tcpPort}/?fp=SHA256:${'A'.repeat(43)}&invite=${link?.token}`);
      await fresh.page.getByTestId('connect').click();
      await fresh.page.getByTestId('connect-error').getByText(/KEY_MISMATCH/).waitFor();
      expect(await fresh.page.getByTestId('user').count()).toBe(0);
    } finally {
      await closeBrowser(fresh);
    }
  });
});
