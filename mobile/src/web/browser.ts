/**
 * What only a browser offers the app: registering the service worker, knowing whether the page
 * itself came over an insecure link, and the tab's visibility. Every function is a no-op (or a
 * safe answer) on a phone, where there is no `document`.
 */

interface BrowserGlobals {
  readonly document?: Document;
  readonly location?: Location;
  readonly navigator?: Navigator;
}

const browser = globalThis as BrowserGlobals;

/** True for an address that never leaves this machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The page came over plain HTTP from another machine: anyone on the path could have replaced
 * the code that pins the node's key, so the user must be told plainly.
 */
export function pageIsInsecure(location: Pick<Location, 'protocol' | 'hostname'> | undefined = browser.location): boolean {
  return location !== undefined && location.protocol === 'http:' && !isLoopback(location.hostname);
}

/** The page came over HTTPS: the node's WebSocket must be `wss://` too. */
export function pageIsHttps(location: Pick<Location, 'protocol'> | undefined = browser.location): boolean {
  return location?.protocol === 'https:';
}

/** The tab is in the background (another tab, minimised window). */
export function tabHidden(): boolean {
  return browser.document?.visibilityState === 'hidden';
}

/**
 * Register the service worker (public/sw.js) so the app shell opens with the node down.
 * Only over a secure context (HTTPS or loopback): browsers refuse it elsewhere anyway.
 */
export function registerServiceWorker(): void {
  const container = browser.navigator?.serviceWorker;
  if (!container || !(globalThis as { isSecureContext?: boolean }).isSecureContext) return;
  container.register('/sw.js', { scope: '/' }).catch(() => undefined); // the app works without it
}

/**
 * Whether the main pointer can hover (a mouse): the message actions then appear on hover, and a
 * drag does not mean "swipe to reply". A phone (and a native app) answers false.
 */
export function canHover(): boolean {
  const media = (globalThis as { matchMedia?: (query: string) => MediaQueryList }).matchMedia;
  return typeof media === 'function' && media('(hover: hover) and (pointer: fine)').matches;
}

/** Put `text` on the clipboard (a browser's; a phone without one answers false). */
export async function copyText(text: string): Promise<boolean> {
  const clipboard = browser.navigator?.clipboard;
  if (!clipboard) return false;
  try {
    await clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
