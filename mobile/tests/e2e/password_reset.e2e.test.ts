/**
 * A forgotten password in the web app at a phone's size (390×844), §14.21: the operator's
 * real `aronanet admin reset-password USER` prints a token, the user enters it with a new
 * password on the login screen and is signed in; the old password is dead, and the spent
 * token is refused in Arona's words. Screenshots go to the temporary directory.
 */
import { execFileSync } from 'node:child_process';

import { closeBrowser, launchBrowser, screenshot, seriousAxeViolations, type Browser } from '../support/browser';
import { connectClient, registeredClient } from '../support/client';
import { startNode, type RunningNode } from '../support/node';
import { DIST, PYTHON } from '../support/paths';

const OLD_PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new horse';

function adminResetToken(node: RunningNode, user: string): string {
  const printed = execFileSync(PYTHON, ['-m', 'aronanet.cli', 'admin', '--data-dir', node.dataDir, 'reset-password', user], { encoding: 'utf8' });
  return printed.trim().split('\n').at(-1) ?? '';
}

describe('a password reset token at phone size', () => {
  let node: RunningNode;
  let browser: Browser;

  beforeAll(async () => {
    node = await startNode({ webDir: DIST });
    browser = await launchBrowser('phone');
  }, 60_000);

  afterAll(async () => {
    await closeBrowser(browser);
    await node?.stop();
  });

  it('sets a new password with the token once, and refuses it the second time in words', async () => {
    const [first, user] = await registeredClient(node, 'forgetful');
    first.close();
    const token = adminResetToken(node, user);
    const page = browser.page;

    await page.goto(node.httpUrl);
    await page.getByTestId('connect').click();
    await page.getByTestId('trust-node').click();
    await page.getByTestId('reset-toggle').click();
    await page.getByTestId('user').fill(user);
    await page.getByTestId('reset-token').fill(token);
    await page.getByTestId('password').fill(NEW_PASSWORD);
    await page.getByTestId('password-again').fill(NEW_PASSWORD);
    await screenshot(page, 'phone', 'reset-1-form');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByTestId('reset-submit').click();
    await page.getByTestId('start-target').waitFor();
    await screenshot(page, 'phone', 'reset-2-signed-in');

    const old = await connectClient(node);
    await expect(old.request({ type: 'AUTH', user, password: OLD_PASSWORD })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    old.close();
    const renewed = await connectClient(node);
    await expect(renewed.request({ type: 'AUTH', user, password: NEW_PASSWORD })).resolves.toMatchObject({ user });
    renewed.close();

    const again = await launchBrowser('phone');
    try {
      await again.page.goto(node.httpUrl);
      await again.page.getByTestId('connect').click();
      await again.page.getByTestId('trust-node').click();
      await again.page.getByTestId('reset-toggle').click();
      await again.page.getByTestId('user').fill(user);
      await again.page.getByTestId('reset-token').fill(token);
      await again.page.getByTestId('password').fill('another password');
      await again.page.getByTestId('password-again').fill('another password');
      await again.page.getByTestId('reset-submit').click();
      const error = again.page.getByTestId('login-error');
      await error.getByText(/unknown, used or expired/).waitFor();
      expect(await error.textContent()).toMatch(/ask your node's admin for a new one.*AUTH_FAILED/);
      await screenshot(again.page, 'phone', 'reset-3-refused');
    } finally {
      await closeBrowser(again);
    }
  });
});
