import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import type { DeviceInfo } from '../../src/protocol/messages';
import { SettingsScreen, type SettingsScreenProps } from '../../src/screens/SettingsScreen';
import { voice } from '../../src/theme/voice';

const devices: DeviceInfo[] = [
  { id: 'SHA256:this', name: 'Chrome on Linux', first_seen: 1_700_000_000, last_seen: 1_700_000_100, address: '127.0.0.1', current: true },
  { id: 'SHA256:phone', name: 'Android app', first_seen: 1_600_000_000, last_seen: 1_650_000_000, address: '10.0.0.7', current: false },
];

function renderSettings(overrides: Partial<SettingsScreenProps> = {}) {
  const calls: unknown[][] = [];
  render(
    <SettingsScreen
      user="sensei"
      keyStorage="webcrypto"
      loadDevices={async () => devices}
      onRename={async (...args) => void calls.push(['rename', ...args])}
      onRevoke={async (...args) => void calls.push(['revoke', ...args])}
      onChangePassword={async (...args) => void calls.push(['password', ...args])}
      onLogout={async (...args) => void calls.push(['logout', ...args])}
      onBack={() => calls.push(['back'])}
      {...overrides}
    />,
  );
  return calls;
}

describe('SettingsScreen', () => {
  it('lists the devices with this one marked, and renames and revokes another', async () => {
    const calls = renderSettings();
    await screen.findByText('Chrome on Linux (this device)');
    expect(screen.getByTestId('device-SHA256:phone')).toHaveTextContent(/from 10\.0\.0\.7/);
    expect(screen.getByTestId('device-SHA256:this')).not.toHaveTextContent(/Revoke/);
    const phone = screen.getByTestId('device-SHA256:phone');
    fireEvent.changeText(phone.findByProps({ testID: 'device-name' }), 'old phone');
    fireEvent.press(phone.findByProps({ testID: 'device-rename' }));
    fireEvent.press(phone.findByProps({ testID: 'device-revoke' }));
    await waitFor(() => expect(calls).toEqual([['rename', 'SHA256:phone', 'old phone'], ['revoke', 'SHA256:phone']]));
    expect(await screen.findByTestId('settings-notice')).toHaveTextContent(/Android app is signed out/);
  });

  it('changes the password and logs out, with or without revoking this device', async () => {
    const calls = renderSettings();
    fireEvent.changeText(screen.getByTestId('password-old'), 'correct horse');
    fireEvent.changeText(screen.getByTestId('password-new'), 'battery staple');
    fireEvent.press(screen.getByTestId('password-change'));
    fireEvent.press(screen.getByTestId('logout'));
    fireEvent.press(screen.getByTestId('logout-revoke'));
    await waitFor(() =>
      expect(calls).toEqual([['password', 'correct horse', 'battery staple'], ['logout', false], ['logout', true]]),
    );
  });

  it('says plainly where the device key is kept, and warns when it is only in local storage', async () => {
    renderSettings({ keyStorage: 'local-storage', keyFallbackReason: 'X25519 is not supported' });
    await screen.findByText('Chrome on Linux (this device)'); // the list loaded: nothing left to update
    expect(screen.getByTestId('device-key-note')).toHaveTextContent(/plain bytes in this site's local storage/);
    expect(screen.getByTestId('device-key-note')).toHaveTextContent(/X25519 is not supported/);
    expect(voice.deviceKey('webcrypto')).toMatch(/non-extractable WebCrypto key/);
  });

  it('shows an error the node gave for the devices list', async () => {
    renderSettings({ loadDevices: async () => Promise.reject(new Error('not connected')) });
    expect(await screen.findByTestId('settings-notice')).toHaveTextContent(/listing the devices failed/);
  });
});
