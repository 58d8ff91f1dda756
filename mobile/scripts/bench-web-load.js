#!/usr/bin/env node
/**
 * How long the web client takes to become usable, as a phone on a slow network sees it:
 * headless Chromium through the DevTools protocol with the CPU slowed 4x and Lighthouse's
 * "slow 4G" (562.5 ms latency, 1.47 Mbit/s down, 675 kbit/s up), from navigation to the
 * Connect button on screen. "cold": a fresh profile (nothing cached); "warm": the same page
 * loaded again (HTTP cache and service worker in place). Prints one JSON line per run and
 * the medians.
 *
 *   node scripts/bench-web-load.js http://127.0.0.1:7778/ [runs=5]
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const SLOW_4G = { offline: false, latency: 562.5, downloadThroughput: (1.4746 * 1024 * 1024) / 8, uploadThroughput: (675 * 1024) / 8 };

async function timeToReady(page, cdp, url) {
  let bytes = 0;
  const onData = (event) => (bytes += event.encodedDataLength);
  cdp.on('Network.loadingFinished', onData);
  const started = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  await page.getByTestId('connect').waitFor({ timeout: 120_000 });
  const ms = Date.now() - started;
  cdp.off('Network.loadingFinished', onData);
  return { ms, kib: Math.round(bytes / 1024) };
}

async function once(url) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'aronanet-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    viewport: { width: 390, height: 844 },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    const cold = await timeToReady(page, cdp, url);
    await page.waitForTimeout(1500); // let the service worker install, as a user would pause
    const warm = await timeToReady(page, cdp, url);
    return { cold, warm };
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

(async () => {
  const [url, runsText = '5'] = process.argv.slice(2);
  if (!url) {
    console.error('usage: node scripts/bench-web-load.js URL [runs]');
    process.exit(2);
  }
  const runs = [];
  for (let n = 0; n < Number(runsText); n += 1) {
    const run = await once(url);
    console.log(JSON.stringify(run));
    runs.push(run);
  }
  const summary = {
    cold_ms: median(runs.map((r) => r.cold.ms)),
    cold_kib: median(runs.map((r) => r.cold.kib)),
    warm_ms: median(runs.map((r) => r.warm.ms)),
    warm_kib: median(runs.map((r) => r.warm.kib)),
  };
  console.log(`median of ${runs.length}: ${JSON.stringify(summary)}`);
})();
