/** Log in or register on the node just connected to; shows its fingerprint on first use. */
import { useState } from 'react';
import { View } from 'react-native';

import { Button, Field, Header, Notice, useStyles } from '../components/ui';
import type { ConnectResult } from '../state/session';
import { voice } from '../theme/voice';

export interface LoginScreenProps {
  readonly address: string;
  readonly node: ConnectResult;
  readonly onLogin: (user: string, password: string, register: boolean) => Promise<void>;
}

export function LoginScreen({ address, node, onLogin }: LoginScreenProps) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const styles = useStyles();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (register: boolean) => {
    setBusy(true);
    setError(null);
    try {
      await onLogin(user.trim(), password, register);
    } catch (caught) {
      setError(voice.failure(register ? 'registering' : 'logging in', caught));
      setBusy(false);
    }
  };

  return (
    <View style={styles.screen}>
      <Header title={node.node} subtitle={voice.connected(node.node, address)} />
      <View style={styles.body}>
        {node.pin === 'first-use' ? <Notice testID="first-use" text={voice.firstSight(node.fingerprint)} /> : null}
        <Field label="User name" testID="user" value={user} onChangeText={setUser} />
        <Field label="Password" testID="password" value={password} onChangeText={setPassword} secureTextEntry />
        <Button label="Log in" testID="login" onPress={() => submit(false)} disabled={busy || !user || !password} />
        <Button label="Register" kind="quiet" testID="register" onPress={() => submit(true)} disabled={busy || !user || !password} />
        {error ? <Notice tone="error" text={error} testID="login-error" /> : null}
      </View>
    </View>
  );
}
