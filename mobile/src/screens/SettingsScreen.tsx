/**
 * Settings (PROTOCOL.md §14.3): where this device's key is kept, the user's devices (name,
 * first and last seen, address, which one is this) with rename and revoke, a password change
 * (which signs every other device out), and logout (optionally revoking this device).
 */
import { useCallback, useEffect, useState } from 'react';
import { ScrollView, Text, View } from 'react-native';

import { Button, Field, Header, Notice, useStyles } from '../components/ui';
import type { DeviceKeyStorage } from '../platform/deviceKeyTypes';
import type { DeviceInfo } from '../protocol/messages';
import { useTheme } from '../theme/ThemeContext';
import { voice } from '../theme/voice';

export interface SettingsScreenProps {
  readonly user: string;
  readonly keyStorage: DeviceKeyStorage;
  readonly keyFallbackReason?: string;
  readonly loadDevices: () => Promise<DeviceInfo[]>;
  readonly onRename: (device: string, name: string) => Promise<unknown>;
  readonly onRevoke: (device: string) => Promise<void>;
  readonly onChangePassword: (old: string, next: string) => Promise<void>;
  readonly onLogout: (revoke: boolean) => Promise<void>;
  readonly onBack: () => void;
}

const when = (seconds: number) => new Date(seconds * 1000).toLocaleString();

export function SettingsScreen(props: SettingsScreenProps) {
  const styles = useStyles();
  const { loadDevices } = props;
  const [devices, setDevices] = useState<DeviceInfo[] | null>(null);
  const [notice, setNotice] = useState<{ text: string; tone: 'info' | 'error' } | null>(null);

  const refresh = useCallback(async () => {
    try {
      setDevices(await loadDevices());
    } catch (caught) {
      setNotice({ text: voice.failure('listing the devices', caught), tone: 'error' });
    }
  }, [loadDevices]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  /** Run an action; say how it went; list the devices again. */
  const act = async (what: string, action: () => Promise<unknown>, done?: string) => {
    setNotice(null);
    try {
      await action();
      if (done) setNotice({ text: done, tone: 'info' });
      await refresh();
    } catch (caught) {
      setNotice({ text: voice.failure(what, caught), tone: 'error' });
    }
  };

  return (
    <View style={styles.screen}>
      <Header title="Settings" subtitle={`Sensei ${props.user}`} right={<Button label="Back" kind="quiet" testID="settings-back" onPress={props.onBack} />} />
      <ScrollView contentContainerStyle={styles.body}>
        <Notice testID="device-key-note" tone={props.keyStorage === 'local-storage' ? 'warning' : 'info'} text={voice.deviceKey(props.keyStorage, props.keyFallbackReason)} />
        {notice ? <Notice testID="settings-notice" tone={notice.tone} text={notice.text} /> : null}
        <Text accessibilityRole="header" style={styles.label}>
          Devices
        </Text>
        {devices === null ? <Text style={styles.label}>Loading…</Text> : null}
        {devices?.map((device) => (
          <DeviceRow
            key={device.id}
            device={device}
            onRename={(name) => act('renaming the device', () => props.onRename(device.id, name))}
            onRevoke={() => act('revoking the device', () => props.onRevoke(device.id), voice.deviceRevoked(device.name))}
          />
        ))}
        <PasswordForm onChange={(old, next) => act('changing the password', () => props.onChangePassword(old, next), voice.passwordChanged)} />
        <Button label="Log out" testID="logout" onPress={() => void props.onLogout(false)} />
        <Button label="Log out and revoke this device" kind="quiet" testID="logout-revoke" onPress={() => void props.onLogout(true)} />
      </ScrollView>
    </View>
  );
}

function DeviceRow({ device, onRename, onRevoke }: { device: DeviceInfo; onRename: (name: string) => void; onRevoke: () => void }) {
  const styles = useStyles();
  const { palette } = useTheme();
  const [name, setName] = useState(device.name);
  return (
    <View testID={`device-${device.id}`} style={{ gap: 6, padding: 12, borderRadius: 10, backgroundColor: palette.panel }}>
      <Text style={{ color: palette.foreground, fontWeight: '700' }}>
        {device.name}
        {device.current ? ' (this device)' : ''}
      </Text>
      <Text style={styles.label}>
        First seen {when(device.first_seen)} · last seen {when(device.last_seen)}
        {device.address ? ` · from ${device.address}` : ''}
      </Text>
      <Text selectable style={[styles.label, { fontFamily: 'monospace' }]}>
        {device.id}
      </Text>
      <View style={{ flexDirection: 'row', gap: 8, alignItems: 'flex-end' }}>
        <View style={{ flex: 1 }}>
          <Field label="Name" testID="device-name" value={name} onChangeText={setName} onSubmitEditing={() => onRename(name.trim())} />
        </View>
        <Button label="Rename" kind="quiet" testID="device-rename" disabled={!name.trim() || name.trim() === device.name} onPress={() => onRename(name.trim())} />
        {device.current ? null : <Button label="Revoke" kind="quiet" testID="device-revoke" onPress={onRevoke} />}
      </View>
    </View>
  );
}

function PasswordForm({ onChange }: { onChange: (old: string, next: string) => Promise<void> }) {
  const [old, setOld] = useState('');
  const [next, setNext] = useState('');
  const submit = async () => {
    await onChange(old, next);
    setOld('');
    setNext('');
  };
  return (
    <View style={{ gap: 8 }}>
      <Field label="Current password" testID="password-old" value={old} onChangeText={setOld} secureTextEntry />
      <Field label="New password (8 characters or more)" testID="password-new" value={next} onChangeText={setNext} secureTextEntry onSubmitEditing={submit} />
      <Button label="Change password" kind="quiet" testID="password-change" disabled={!old || next.length < 8} onPress={() => void submit()} />
    </View>
  );
}
