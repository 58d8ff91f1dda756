/**
 * Build the web export once for every browser test file (scripts/build-web.sh, as a user
 * would), into tests' DIST. ARONANET_WEB_DIST names an export built already (a quicker rerun
 * while working on the tests themselves; never in CI).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { DIST, MOBILE_ROOT } from '../support/paths';

export default function globalSetup(): void {
  if (process.env.ARONANET_WEB_DIST) return;
  const built = execFileSync('bash', [path.join(MOBILE_ROOT, 'scripts', 'build-web.sh'), DIST], {
    cwd: os.tmpdir(), // the script finds the app from its own path
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 300_000,
  });
  if (!built.includes(`serve it with: aronanet serve --web-dir ${DIST}`) || !fs.existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`the web export failed:\n${built}`);
  }
}
