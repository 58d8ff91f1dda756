/** Phones: what the devices list calls this device (§14.3 `device_name`). */
import { Platform } from 'react-native';

export function deviceName(): string {
  return Platform.OS === 'ios' ? 'iPhone app' : Platform.OS === 'android' ? 'Android app' : 'AronaNET app';
}
