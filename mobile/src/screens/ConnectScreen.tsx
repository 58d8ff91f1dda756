/**
 * Connect: a node address, or several of one community (`h1:7778, h2:7778`). On first use the node's fingerprint is shown and the user is asked
 * before it is pinned (§2, as the terminal client's TrustScreen does); a changed key is refused
 * loudly unless the user accepts it.
 */
import { useState } from 'react';
import { View } from 'react-native';

import { Button, Field, Fingerprint, Header, Notice, useStyles } from '../components/ui';
import { KeyChangedError } from '../protocol/errors';
import { type InviteLink, parseInviteLink } from '../protocol/moderation';
import type { ConnectResult } from '../state/sessionTypes';
import { voice } from '../theme/voice';

export interface ConnectScreenProps {
  readonly initialAddress: string;
  /** §14.21: an invitation the web app was opened with (`#invite=…&fp=…`). */
  readonly initialInvite?: InviteLink | null;
  /** `pinned`: the key an invitation names; another key is refused, this one pinned unasked. */
  readonly onConnect: (address: string, pinned?: string) => Promise<ConnectResult>;
  /** The user accepted the key shown for `address` (first use, or a changed key): pin it for every address of the list typed. */
  readonly onTrustNewKey: (address: string, fingerprint: string) => Promise<void>;
  /** The user refused a first-use key: drop the connection. */
  readonly onRefuse?: () => void;
  readonly onConnected: (result: ConnectResult, address: string, invite?: string) => void;
}

/**
 * Where an invitation leads: on the web the app is served by the node, so its own address
 * (`fallback`) is the node's WebSocket; the link's `HOST:PORT` is the node's TCP port, which a
 * browser cannot reach. Elsewhere the link's address.
 */
function inviteAddress(link: InviteLink, fallback: string): string {
  return fallback || link.address;
}

export function ConnectScreen(props: ConnectScreenProps) {
  const [address, setAddress] = useState(props.initialAddress);
  const [invite, setInvite] = useState<InviteLink | null>(props.initialInvite ?? null);
  const styles = useStyles();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [changed, setChanged] = useState<{ error: KeyChangedError; target: string } | null>(null);
  const [asking, setAsking] = useState<{ result: ConnectResult; address: string } | null>(null);

  const connect = async () => {
    const pasted = parseInviteLink(address);
    const link = pasted ?? invite;
    if (pasted) {
      setInvite(pasted);
      setAddress(inviteAddress(pasted, props.initialAddress));
    }
    const target = pasted ? inviteAddress(pasted, props.initialAddress) : address.trim();
    if (!target || busy) return;
    if (address.trim().toLowerCase().startsWith('aronanet://') && !pasted) {
      setError('Sensei, that invitation link is incomplete: it needs fp=SHA256:… and invite=…');
      return;
    }
    setBusy(true);
    setError(null);
    setChanged(null);
    setAsking(null);
    try {
      const result = await props.onConnect(target, link?.fingerprint);
      if (result.pin === 'first-use') setAsking({ result, address: target });
      else props.onConnected(result, target, link?.token);
    } catch (caught) {
      if (caught instanceof KeyChangedError) setChanged({ error: caught, target });
      else setError(voice.failure('connecting', caught));
    } finally {
      setBusy(false);
    }
  };

  const trustChanged = async () => {
    if (!changed) return;
    // Every address of the list presents one key: trust it for all of them.
    await props.onTrustNewKey(changed.target, changed.error.presented);
    await connect();
  };

  const trustFirstUse = async () => {
    if (!asking) return;
    await props.onTrustNewKey(asking.address, asking.result.fingerprint);
    setAsking(null);
    props.onConnected({ ...asking.result, pin: 'match' }, asking.address);
  };

  const refuse = () => {
    setAsking(null);
    props.onRefuse?.();
  };

  return (
    <View style={styles.screen}>
      <Header title="AronaNET" subtitle={voice.welcome} />
      <View style={styles.body}>
        <Field
          label="Node address"
          testID="address"
          value={address}
          onChangeText={setAddress}
          onSubmitEditing={() => void connect()}
          returnKeyType="go"
          placeholder="host:7778 (h1:7778, h2:7778 for several nodes) or an aronanet:// invitation"
        />
        {invite ? (
          <Notice testID="invite-notice" text={`You're invited, Sensei! I'll pin this node's key from the invitation:`}>
            <Fingerprint value={invite.fingerprint} testID="invite-fingerprint" />
          </Notice>
        ) : null}
        <Button label={busy ? 'Connecting…' : 'Connect'} testID="connect" onPress={connect} disabled={busy || !address.trim()} />
        {error ? <Notice tone="error" text={error} testID="connect-error" /> : null}
        {asking ? (
          <Notice testID="first-use" text={voice.firstSight(asking.address)}>
            <Fingerprint value={asking.result.fingerprint} testID="first-use-fingerprint" />
            <Button label="Trust this node" testID="trust-node" onPress={trustFirstUse} />
            <Button label="Refuse" kind="danger" testID="refuse-node" onPress={refuse} />
          </Notice>
        ) : null}
        {changed ? (
          <Notice tone="error" testID="key-changed" text={voice.keyChangedBrief(changed.error.address)}>
            <Fingerprint value={changed.error.pinned} testID="pinned-fingerprint" />
            <Fingerprint value={changed.error.presented} testID="presented-fingerprint" />
            <Button label="I know why: trust the new key" kind="danger" testID="trust-new-key" onPress={trustChanged} />
          </Notice>
        ) : null}
      </View>
    </View>
  );
}
