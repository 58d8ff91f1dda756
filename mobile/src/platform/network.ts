/** Tell the session when the device's network comes back (Wi-Fi/cellular changes). */
import NetInfo from '@react-native-community/netinfo';

export function watchNetwork(onAvailable: () => void): () => void {
  return NetInfo.addEventListener((state) => {
    if (state.isConnected) onAvailable();
  });
}
