/** Where the test suite finds the shared vectors and the Python interpreter. */
import * as path from 'node:path';

export const MOBILE_ROOT = path.resolve(__dirname, '..', '..');
export const PROJECT_ROOT = path.resolve(MOBILE_ROOT, '..');

/** `shared/` sits beside the project root (shared/README.md: "at ../shared from the project root"). */
export const SHARED_DIR = process.env.ARONANET_SHARED ?? path.resolve(PROJECT_ROOT, '..', 'shared');
export const NOISE_VECTORS_DIR = path.join(SHARED_DIR, 'vectors', 'noise');

/** The Python that runs the node: env ARONANET_PYTHON, else the project's virtualenv. */
export const PYTHON = process.env.ARONANET_PYTHON ?? path.resolve(MOBILE_ROOT, '..', '.venv', 'bin', 'python');
