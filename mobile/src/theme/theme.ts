/**
 * Arona's theme: the terminal client's palette (src/aronanet/tui/theme.py), sky blue, white
 * and soft pink, light and dark. Nick colours match the TUI's: CRC-32 of the case-folded name.
 */

export interface Palette {
  readonly dark: boolean;
  readonly primary: string;
  readonly secondary: string;
  readonly accent: string;
  readonly warning: string;
  readonly error: string;
  readonly success: string;
  readonly foreground: string;
  readonly muted: string;
  readonly background: string;
  readonly surface: string;
  readonly panel: string;
  readonly halo: string;
  readonly highlight: string;
  /** A primary button's fill and the text on it (WCAG AA: at least 4.5:1). */
  readonly action: string;
  readonly onAction: string;
  /** Text of quiet buttons and links, on background, surface and panel (at least 4.5:1). */
  readonly link: string;
  /** The unread badge and its number (at least 4.5:1). */
  readonly badge: string;
  readonly onBadge: string;
  /** Input and control borders (WCAG 1.4.11: at least 3:1 against surface and background). */
  readonly border: string;
  /** Behind the messages, and the two bubble fills: incoming ones stand out from the canvas. */
  readonly canvas: string;
  readonly incoming: string;
  readonly outgoing: string;
  /** An informational notice's fill (errors keep `highlight`, the pink). */
  readonly info: string;
  /** Error text on a notice fill and on the canvas (at least 4.5:1). */
  readonly errorText: string;
}

export const ARONA_LIGHT: Palette = {
  dark: false,
  primary: '#3a9ad9',
  secondary: '#7cc4f0',
  accent: '#e87fa8',
  warning: '#d98a1f',
  error: '#cf3f5c',
  success: '#2f9e6e',
  foreground: '#22364a',
  muted: '#4b6176',
  background: '#f6fbff',
  surface: '#ffffff',
  panel: '#e3f2fd',
  halo: '#b8336a',
  highlight: '#fde4ee',
  action: '#1f6fb2',
  onAction: '#ffffff',
  link: '#1a5f99',
  badge: '#c2185b',
  onBadge: '#ffffff',
  border: '#6b8aa6',
  canvas: '#e9f2fa',
  incoming: '#ffffff',
  outgoing: '#cfe6f8',
  info: '#e3f2fd',
  errorText: '#a8233f',
};

export const ARONA_DARK: Palette = {
  dark: true,
  primary: '#6cc4ff',
  secondary: '#2d6f9e',
  accent: '#ff9cc2',
  warning: '#f0b35a',
  error: '#ff6b86',
  success: '#6ad49b',
  foreground: '#e6f3ff',
  muted: '#9db4cc',
  background: '#0f1b2a',
  surface: '#14243a',
  panel: '#1b3150',
  halo: '#ff9cc2',
  highlight: '#4a2338',
  action: '#6cc4ff',
  onAction: '#0f1b2a',
  link: '#6cc4ff',
  badge: '#ff9cc2',
  onBadge: '#0f1b2a',
  border: '#6a93b8',
  canvas: '#0b1522',
  incoming: '#1d3452',
  outgoing: '#17395c',
  info: '#1b3150',
  errorText: '#ff8da2',
};

/** Nick colours; each reads at 4.5:1 on an incoming bubble (the TUI's #558b2f was 4.1, so darker here). */
export const NICK_LIGHT = ['#1f6fb2', '#b8336a', '#2e7d32', '#8e44ad', '#c05621', '#00838f', '#6d4c41', '#3949ab', '#ad1457', '#4a7a26', '#5d4037', '#0277bd'];
export const NICK_DARK = ['#7cc4f0', '#ff9cc2', '#8fe3a8', '#c9a2ff', '#ffb877', '#6fe0e6', '#e0c29a', '#a3b5ff', '#ff8fb1', '#c5e88c', '#f5d76e', '#9ad7ff'];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The stable colour of a name, the same as in the terminal client. */
export function nickColour(name: string, palette: Palette): string {
  const colours = palette.dark ? NICK_DARK : NICK_LIGHT;
  return colours[crc32(new TextEncoder().encode(name.toLowerCase())) % colours.length] as string;
}

/** WCAG 2 relative luminance of a `#rrggbb` colour. */
export function luminance(hex: string): number {
  const channel = (at: number) => {
    const value = parseInt(hex.slice(at, at + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** WCAG 2 contrast ratio of two `#rrggbb` colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}
