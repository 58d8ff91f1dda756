/**
 * The layers of the TypeScript client stay as ARCHITECTURE.md draws them: protocol/ is the
 * sans-I/O ArTP library and never imports transport/ (nor state, screens, platform); state/
 * holds no UI strings (no theme/voice) and knows no screens.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { MOBILE_ROOT } from '../support/paths';

const SRC = path.join(MOBILE_ROOT, 'src');

function sources(directory: string): string[] {
  return fs.readdirSync(path.join(SRC, directory)).filter((name) => /\.tsx?$/.test(name)).map((name) => path.join(directory, name));
}

/** The src/ directories a file imports from (relative imports only), e.g. `protocol`, `theme`. */
function importedDirectories(file: string): string[] {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:import|export)[^'"]*from\s+'(\.[^']+)'/g)) {
    const target = path.relative(SRC, path.resolve(path.join(SRC, path.dirname(file)), match[1] as string));
    found.push(target.split(path.sep)[0] as string);
  }
  return found;
}

function violations(directory: string, forbidden: readonly string[]): string[] {
  return sources(directory).flatMap((file) =>
    importedDirectories(file).filter((target) => forbidden.includes(target)).map((target) => `${file} imports ${target}/`),
  );
}

describe('the layers of the client', () => {
  it('keeps protocol/ free of transport, platform, state and UI imports', () => {
    expect(violations('protocol', ['transport', 'platform', 'state', 'screens', 'components', 'theme'])).toEqual([]);
  });

  it('keeps UI strings and screens out of state/', () => {
    expect(violations('state', ['theme', 'screens', 'components', 'transport'])).toEqual([]);
  });

  it('finds an import that breaks the rule (the check itself works)', () => {
    expect(importedDirectories(path.join('transport', 'transport.ts'))).toContain('protocol');
  });
});
