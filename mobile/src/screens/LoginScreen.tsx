/**
 * Log in or register on the node just connected to. Enter in either field logs in. "Forgot
 * password?" turns the form into a password reset (§14.21): the token an admin printed with
 * `aronanet admin reset-password`, and the new password twice.
 */
import { useRef, useState } from 'react';
import { type TextInput, View } from 'react-native';

import { Button, Field, Header, Notice, useStyles } from '../components/ui';
import { ArtpError } from '../protocol/errors';
import type { ConnectResult } from '../state/sessionTypes';
import { voice } from '../theme/voice';

export interface LoginScreenProps {
  readonly address: string;
  readonly node: ConnectResult;
  readonly onLogin: (user: string, password: string, register: boolean) => Promise<void>;
  /** §14.21: log in with a reset token, `password` becoming the account's new password. */
  readonly onReset?: (user: string, token: string, password: string) => Promise<void>;
  /** Back to choosing a node. */
  readonly onBack?: () => void;
  /** §14.21: registering with an invitation (its token goes with the AUTH). */
  readonly invited?: boolean;
}

/** The shortest password a node accepts (§3). */
const MIN_PASSWORD = 8;

/** What keeps the reset form from being sent, in Arona's words; null when it can go. */
export function resetFormProblem(user: string, token: string, password: string, again: string): string | null {
  if (user.trim() === '') return 'Sensei, I need your user name.';
  if (token.trim() === '') return "Sensei, I need the reset token your node's admin gave you.";
  if (password.length < MIN_PASSWORD) return `Passwords have at least ${MIN_PASSWORD} characters, Sensei.`;
  if (password !== again) return 'The two passwords differ, Sensei.';
  return null;
}

export function LoginScreen({ address, node, onLogin, onReset, onBack, invited }: LoginScreenProps) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [resetting, setResetting] = useState(false);
  const [token, setToken] = useState('');
  const [again, setAgain] = useState('');
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

  const reset = async () => {
    if (busy || !onReset) return;
    const problem = resetFormProblem(user, token, password, again);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      await onReset(user.trim(), token.trim(), password);
    } catch (caught) {
      const refused = caught instanceof ArtpError && caught.code === 'AUTH_FAILED';
      setError(refused ? voice.resetRefused(caught) : voice.failure('resetting the password', caught));
      setBusy(false);
    }
  };

  const toggle = () => {
    setResetting(!resetting);
    setError(null);
    setPassword('');
    setAgain('');
  };

  return (
    <View style={styles.screen}>
      <Header title={node.node} subtitle={voice.connected(node.node, address)} onBack={onBack} />
      <View style={styles.body}>
        {invited && !resetting ? <Notice testID="invited" text="You're invited, Sensei! Choose a name and a password, then Register." /> : null}
        {resetting ? <Notice testID="reset-help" text="Paste the reset token your node's admin gave you, then choose a new password." /> : null}
        <Field
          label="User name"
          testID="user"
          value={user}
          onChangeText={setUser}
          autoComplete="username"
          returnKeyType="next"
          onSubmitEditing={() => (password ? void submit(false) : passwordField.current?.focus())}
        />
        {resetting ? <Field label="Reset token" testID="reset-token" value={token} onChangeText={setToken} autoComplete="off" /> : null}
        <Field
          ref={passwordField}
          label={resetting ? 'New password' : 'Password'}
          testID="password"
          value={password}
          onChangeText={setPassword}
          secureTextEntry
          autoComplete={resetting ? 'new-password' : 'current-password'}
          returnKeyType="go"
          onSubmitEditing={() => void (resetting ? undefined : submit(false))}
        />
        {resetting ? (
          <>
            <Field
              label="New password again"
              testID="password-again"
              value={again}
              onChangeText={setAgain}
              secureTextEntry
              autoComplete="new-password"
              returnKeyType="go"
              onSubmitEditing={() => void reset()}
            />
            <Button label="Set password and log in" testID="reset-submit" onPress={() => reset()} disabled={busy} />
          </>
        ) : (
          <>
            <Button label="Log in" testID="login" onPress={() => submit(false)} disabled={!ready} />
            <Button label="Register" kind="quiet" testID="register" onPress={() => submit(true)} disabled={!ready} />
          </>
        )}
        {onReset ? (
          <Button
            label={resetting ? 'Back to logging in' : 'Forgot password? Use a reset token'}
            kind="quiet"
            testID="reset-toggle"
            onPress={toggle}
            disabled={busy}
          />
        ) : null}
        {error ? <Notice tone="error" text={error} testID="login-error" /> : null}
      </View>
    </View>
  );
}
