/** Where the test suite finds the Noise vectors and the Python interpreter. */
import * as path from 'node:path';

export const MOBILE_ROOT = path.resolve(__dirname, '..', '..');
export const PROJECT_ROOT = path.resolve(MOBILE_ROOT, '..');

/** The public Noise vectors, kept in the repository beside the Python tests that use them too. */
export const NOISE_VECTORS_DIR = path.join(PROJECT_ROOT, 'tests', 'vectors', 'noise');

/** The Python that runs the node: env ARONANET_PYTHON, else the project's virtualenv. */
export const PYTHON = process.env.ARONANET_PYTHON ?? path.resolve(MOBILE_ROOT, '..', '.venv', 'bin', 'python');

/** Where the browser tests build the web export (or ARONANET_WEB_DIST, one built already). */
export const DIST = process.env.ARONANET_WEB_DIST ?? path.join(MOBILE_ROOT, 'dist');
