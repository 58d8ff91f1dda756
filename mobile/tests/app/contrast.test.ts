/**
 * WCAG 2.1 AA, computed from the theme itself: text at least 4.5:1 against what it sits on,
 * borders of controls at least 3:1 (1.4.11), in both palettes.
 */
import { ARONA_DARK, ARONA_LIGHT, contrastRatio, NICK_DARK, NICK_LIGHT, type Palette } from '../../src/theme/theme';

type Key = keyof Omit<Palette, 'dark'>;

/** [text or border, background, minimum ratio, what it is] */
const PAIRS: [Key, Key, number, string][] = [
  ['onAction', 'action', 4.5, 'a primary button'],
  ['link', 'background', 4.5, 'a quiet button on the page'],
  ['link', 'panel', 4.5, 'a header icon button'],
  ['link', 'surface', 4.5, 'a quiet button in a card'],
  ['link', 'info', 4.5, 'a button in an information notice'],
  ['onBadge', 'badge', 4.5, 'the unread badge'],
  ['border', 'surface', 3, 'an input border against the input'],
  ['border', 'background', 3, 'an input border against the page'],
  ['foreground', 'incoming', 4.5, 'text in an incoming bubble'],
  ['foreground', 'outgoing', 4.5, 'text in my bubble'],
  ['muted', 'incoming', 4.5, 'the time in an incoming bubble'],
  ['muted', 'outgoing', 4.5, 'the time and tick in my bubble'],
  ['muted', 'canvas', 4.5, 'a system line in the chat'],
  ['muted', 'panel', 4.5, 'a header subtitle'],
  ['muted', 'background', 4.5, 'a field label'],
  ['muted', 'surface', 4.5, 'a placeholder'],
  ['halo', 'panel', 4.5, 'the halo (decorative, but axe checks it)'],
  ['errorText', 'highlight', 4.5, 'an error on an error notice'],
  ['errorText', 'canvas', 4.5, 'a failed tick, the unread line'],
  ['errorText', 'background', 4.5, 'a danger button'],
  ['foreground', 'highlight', 4.5, 'an error notice'],
  ['foreground', 'info', 4.5, 'an information notice'],
];

describe.each([
  ['light', ARONA_LIGHT],
  ['dark', ARONA_DARK],
])('the %s palette', (_name, palette) => {
  it.each(PAIRS)('%s on %s reaches %d:1 (%s)', (front, back, minimum) => {
    expect(contrastRatio(palette[front], palette[back])).toBeGreaterThanOrEqual(minimum);
  });
});

describe.each([
  ['light', ARONA_LIGHT, NICK_LIGHT],
  ['dark', ARONA_DARK, NICK_DARK],
])('the %s nick colours', (_name, palette, nicks) => {
  it.each(nicks)('%s reads at 4.5:1 on an incoming bubble', (nick) => {
    expect(contrastRatio(nick, palette.incoming)).toBeGreaterThanOrEqual(4.5);
  });
});

describe('contrastRatio', () => {
  it('matches the WCAG figures for black on white and for identical colours', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#3a9ad9', '#3a9ad9')).toBe(1);
    expect(contrastRatio('#ffffff', '#3a9ad9')).toBeCloseTo(3.09, 2); // the old primary button
  });
});
