/** Android and iOS: NetInfo tells the session when the device's network comes back or goes. */
import NetInfo from '@react-native-community/netinfo';

import type { NetworkWatcher } from './networkTypes';

export type { NetworkWatcher } from './networkTypes';

export function watchNetwork({ online, offline }: NetworkWatcher): () => void {
  return NetInfo.addEventListener((state) => {
    if (state.isConnected === false) offline();
    else if (state.isConnected) online();
  });
}
