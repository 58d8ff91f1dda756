/**
 * The web client over TLS (issue 12): a node given --tls-cert serves the page over https://
 * and the page opens its WebSocket with wss://; over plain HTTP from an address that is not
 * loopback, the page says plainly that its code could have been replaced on the way.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { type Browser, closeBrowser, launchBrowser, screenshot, seriousAxeViolations } from '../support/browser';
import { type RunningNode, startNode } from '../support/node';
import { DIST } from '../support/paths';

/** A self-signed certificate for 127.0.0.1, made with openssl. */
function selfSigned(directory: string): { cert: string; key: string } {
  const cert = path.join(directory, 'cert.pem');
  const key = path.join(directory, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

/** This machine's first address that is not loopback, if it has one. */
function lanAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((found) => found && found.family === 'IPv4' && !found.internal)?.address;
}

describe('the web client over TLS', () => {
  let node: RunningNode;
  let browser: Browser;
  let certs: string;

  beforeAll(async () => {
    certs = fs.mkdtempSync(path.join(os.tmpdir(), 'aronanet-tls-'));
    node = await startNode({ webDir: DIST, tls: selfSigned(certs) });
    browser = await launchBrowser('phone', { ignoreHTTPSErrors: true });
  }, 60_000);

  afterAll(async () => {
    await closeBrowser(browser);
    await node?.stop();
    fs.rmSync(certs, { recursive: true, force: true });
  });

  it('loads over https:// and talks to the node over wss://', async () => {
    const { page } = browser;
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    expect(node.httpUrl).toMatch(/^https:/);
    await page.goto(node.httpUrl);
    await page.getByTestId('connect').click();
    await page.getByTestId('trust-node').click();
    await page.getByTestId('user').waitFor();
    expect(sockets).toEqual([`wss://127.0.0.1:${node.wsPort}/artp`]);
    expect(await page.getByTestId('insecure-page').count()).toBe(0);
  });
});

const lan = lanAddress();

describe('the web client over plain HTTP from another machine', () => {
  let node: RunningNode;
  let browser: Browser;

  beforeAll(async () => {
    node = await startNode({ webDir: DIST, host: '0.0.0.0' });
    browser = await launchBrowser('phone');
  }, 60_000);

  afterAll(async () => {
    await closeBrowser(browser);
    await node?.stop();
  });

  it('says plainly that the page came over plain HTTP, and not on loopback', async () => {
    expect(lan).toBeDefined(); // the test needs an address that is not loopback
    const { page } = browser;
    await page.goto(`http://${lan}:${node.wsPort}/`);
    const warning = page.getByTestId('insecure-page');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/plain HTTP/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'phone', '9-insecure-page');
    await page.goto(node.httpUrl);
    await page.getByTestId('connect').waitFor();
    expect(await warning.count()).toBe(0);
  });
});
