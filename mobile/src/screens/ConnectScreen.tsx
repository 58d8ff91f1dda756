/** Connect: a node address; the fingerprint is shown on first use and a changed key refused. */
import { useState } from 'react';
import { View } from 'react-native';

import { Button, Field, Header, Notice, useStyles } from '../components/ui';
import { KeyChangedError } from '../protocol/errors';
import type { ConnectResult } from '../state/session';
import { voice } from '../theme/voice';

export interface ConnectScreenProps {
  readonly initialAddress: string;
  readonly onConnect: (address: string) => Promise<ConnectResult>;
  /** The user accepted a changed key for `address`. */
  readonly onTrustNewKey: (address: string, fingerprint: string) => Promise<void>;
  readonly onConnected: (result: ConnectResult, address: string) => void;
}

export function ConnectScreen(props: ConnectScreenProps) {
  const [address, setAddress] = useState(props.initialAddress);
  const styles = useStyles();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [changed, setChanged] = useState<KeyChangedError | null>(null);

  const connect = async () => {
    setBusy(true);
    setError(null);
    setChanged(null);
    try {
      props.onConnected(await props.onConnect(address.trim()), address.trim());
    } catch (caught) {
      if (caught instanceof KeyChangedError) setChanged(caught);
      else setError(voice.failure('connecting', caught));
    } finally {
      setBusy(false);
    }
  };

  const trust = async () => {
    if (!changed) return;
    await props.onTrustNewKey(changed.address, changed.presented);
    await connect();
  };

  return (
    <View style={styles.screen}>
      <Header title="AronaNET" subtitle={voice.welcome} />
      <View style={styles.body}>
        <Field label="Node address" testID="address" value={address} onChangeText={setAddress} placeholder="host:7778" />
        <Button label={busy ? 'Connecting…' : 'Connect'} testID="connect" onPress={connect} disabled={busy || !address.trim()} />
        {error ? <Notice tone="error" text={error} testID="connect-error" /> : null}
        {changed ? (
          <>
            <Notice tone="error" testID="key-changed" text={voice.keyChanged(changed.address, changed.pinned, changed.presented)} />
            <Button label="I know why: trust the new key" kind="quiet" testID="trust-new-key" onPress={trust} />
          </>
        ) : null}
      </View>
    </View>
  );
}
