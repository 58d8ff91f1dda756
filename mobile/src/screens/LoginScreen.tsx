/** Log in or register on the node just connected to. Enter in either field logs in. */
import { useRef, useState } from 'react';
import { type TextInput, View } from 'react-native';

import { Button, Field, Header, Notice, useStyles } from '../components/ui';
import type { ConnectResult } from '../state/session';
import { voice } from '../theme/voice';

export interface LoginScreenProps {
  readonly address: string;
  readonly node: ConnectResult;
  readonly onLogin: (user: string, password: string, register: boolean) => Promise<void>;
  /** Back to choosing a node. */
  readonly onBack?: () => void;
  /** §14.21: registering with an invitation (its token goes with the AUTH). */
  readonly invited?: boolean;
}

export function LoginScreen({ address, node, onLogin, onBack, invited }: LoginScreenProps) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const styles = useStyles();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const passwordField = useRef<TextInput>(null);
  const ready = !busy && user.trim() !== '' && password !== '';

  const submit = async (register: boolean) => {
    if (!ready) return;
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
      <Header title={node.node} subtitle={voice.connected(node.node, address)} onBack={onBack} />
      <View style={styles.body}>
        {invited ? <Notice testID="invited" text="You're invited, Sensei! Choose a name and a password, then Register." /> : null}
        <Field
          label="User name"
          testID="user"
          value={user}
          onChangeText={setUser}
          autoComplete="username"
          returnKeyType="next"
          onSubmitEditing={() => (password ? void submit(false) : passwordField.current?.focus())}
        />
        <Field
          ref={passwordField}
          label="Password"
          testID="password"
          value={password}
          onChangeText={setPassword}
          secureTextEntry
          autoComplete="current-password"
          returnKeyType="go"
          onSubmitEditing={() => void submit(false)}
        />
        <Button label="Log in" testID="login" onPress={() => submit(false)} disabled={!ready} />
        <Button label="Register" kind="quiet" testID="register" onPress={() => submit(true)} disabled={!ready} />
        {error ? <Notice tone="error" text={error} testID="login-error" /> : null}
      </View>
    </View>
  );
}
