/**
 * Web: the browser's `online` and `offline` events tell the session when the network comes and
 * goes (Wi-Fi changes, a laptop waking up), so it reconnects at once instead of on its timer.
 */
import type { NetworkWatcher } from './networkTypes';

export type { NetworkWatcher } from './networkTypes';

export function watchNetwork({ online, offline }: NetworkWatcher): () => void {
  const target = globalThis as Partial<Pick<Window, 'addEventListener' | 'removeEventListener'>>;
  if (!target.addEventListener || !target.removeEventListener) return () => undefined;
  target.addEventListener('online', online);
  target.addEventListener('offline', offline);
  return () => {
    target.removeEventListener?.('online', online);
    target.removeEventListener?.('offline', offline);
  };
}
