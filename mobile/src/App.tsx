/**
 * The composition root of the app: platform services in, one ChatSession, and a small screen
 * state machine (connect -> login -> conversations <-> chat). No navigation library needed.
 */
import { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { SafeAreaView, StatusBar } from 'react-native';

import { Button, Notice } from './components/ui';
import { platformAead } from './platform/aead';
import { defaultAddress } from './platform/defaultAddress';
import { type DeviceKey, loadDeviceKey } from './platform/deviceKey';
import { deviceName } from './platform/deviceName';
import { watchNetwork } from './platform/network';
import { outboxStore } from './platform/outboxStore';
import { pickImage } from './platform/pickImage';
import { randomBytes } from './platform/random';
import { plainStore } from './platform/storage';
import { ChatScreen } from './screens/ChatScreen';
import { ConnectScreen } from './screens/ConnectScreen';
import { ConversationsScreen } from './screens/ConversationsScreen';
import { LoginScreen } from './screens/LoginScreen';
import { SettingsScreen } from './screens/SettingsScreen';
import { AccountMemory } from './state/account';
import { type ChatState, chatReducer, initialChatState, newestMessageId, sortedConversations } from './state/chat';
import { KnownNodes } from './state/knownNodes';
import { ChatSession, type ConnectResult } from './state/session';
import { ThemeProvider, useTheme } from './theme/ThemeContext';
import { voice } from './theme/voice';
import { artpUrl, openWebSocket } from './transport/websocket';

const knownNodes = new KnownNodes(plainStore);

export default function App() {
  return (
    <ThemeProvider store={plainStore}>
      <ChatApp />
    </ThemeProvider>
  );
}

function ChatApp() {
  const { palette, scheme } = useTheme();
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  const stateRef = useRef(state);
  stateRef.current = state;
  const [deviceKey, setDeviceKey] = useState<DeviceKey | null>(null);
  const [startupError, setStartupError] = useState<string | null>(null);
  const [node, setNode] = useState<{ result: ConnectResult; address: string } | null>(null);
  /** False until the session tried to sign in again as the account this device remembers. */
  const [resumed, setResumed] = useState(false);
  const [settings, setSettings] = useState(false);

  useEffect(() => {
    loadDeviceKey(randomBytes).then(setDeviceKey, (error) => setStartupError(voice.failure('starting', error)));
  }, []);

  // Made once per device key; a browser without WebCrypto (plain HTTP) cannot have a session.
  const created = useMemo((): { session: ChatSession } | { problem: string } | null => {
    if (!deviceKey) return null;
    try {
      const session = new ChatSession({
        aead: platformAead(),
        random: randomBytes,
        deviceKey: deviceKey.key,
        knownNodes,
        openTransport: (address) => openWebSocket(artpUrl(address)),
        dispatch,
        getState: () => stateRef.current,
        accounts: new AccountMemory(plainStore),
        outboxStore: outboxStore(),
        deviceName: deviceName(),
      });
      return { session };
    } catch {
      return { problem: voice.insecureWeb };
    }
  }, [deviceKey]);
  const session = created && 'session' in created ? created.session : null;
  const problem = startupError ?? (created && 'problem' in created ? created.problem : null);

  useEffect(() => {
    if (!session) return;
    session.resume().then(
      (result) => {
        if (result.kind === 'needs-password') setNode({ result: result.node, address: result.address });
        setResumed(true);
      },
      () => setResumed(true),
    );
  }, [session]);

  // §14.6: a conversation on screen at its newest message is read, on every device.
  const active = state.active ? state.conversations[state.active] : undefined;
  const newest = active ? newestMessageId(active) : undefined;
  useEffect(() => {
    if (session && active && state.link === 'online') void session.markRead(active.key);
  }, [session, active?.key, newest, state.link]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (!session) return undefined;
    const unwatch = watchNetwork({ online: () => session.networkAvailable(), offline: () => session.networkLost() });
    return () => {
      unwatch();
      session.close();
    };
  }, [session]);

  return (
    <SafeAreaView style={{ flex: 1, backgroundColor: palette.background }}>
      <StatusBar barStyle={scheme === 'dark' ? 'light-content' : 'dark-content'} />
      {problem ? <Notice tone="error" text={problem} testID="startup-error" /> : null}
      {session && state.user && state.linkProblem?.kind === 'signInRefused' ? (
        // §14.3: this device was revoked (or the password changed elsewhere): the password, once.
        <Button
          label="Log in again"
          testID="login-again"
          onPress={() =>
            void session.passwordLogin().then(
              (prompt) => setNode({ result: prompt.node, address: prompt.address }),
              () => undefined,
            )
          }
        />
      ) : null}
      {session && resumed && deviceKey ? (
        <Screens
          session={session}
          state={state}
          node={node}
          setNode={setNode}
          deviceKey={deviceKey}
          settings={settings}
          setSettings={setSettings}
        />
      ) : null}
    </SafeAreaView>
  );
}

interface ScreensProps {
  readonly session: ChatSession;
  readonly state: ChatState;
  readonly node: { result: ConnectResult; address: string } | null;
  readonly setNode: (node: { result: ConnectResult; address: string } | null) => void;
  readonly deviceKey: DeviceKey;
  readonly settings: boolean;
  readonly setSettings: (open: boolean) => void;
}

function Screens({ session, state, node, setNode, deviceKey, settings, setSettings }: ScreensProps) {
  const linkProblem = state.linkProblem ? voice.linkProblem(state.linkProblem) : null;
  if (state.user && settings) {
    return (
      <SettingsScreen
        user={state.user}
        keyStorage={deviceKey.storage}
        keyFallbackReason={deviceKey.fallbackReason}
        loadDevices={() => session.devices()}
        onRename={(device, name) => session.renameDevice(device, name)}
        onRevoke={(device) => session.revokeDevice(device)}
        onChangePassword={(old, next) => session.changePassword(old, next)}
        onLogout={async (revoke) => {
          await session.logout({ revoke });
          setSettings(false);
          setNode(null);
        }}
        onBack={() => setSettings(false)}
      />
    );
  }
  if (!state.user && !node) {
    return (
      <ConnectScreen
        initialAddress={defaultAddress()}
        onConnect={(address) => session.connect(address)}
        onTrustNewKey={(address, fingerprint) => knownNodes.accept(address, fingerprint)}
        onConnected={(result, address) => setNode({ result, address })}
      />
    );
  }
  if (!state.user && node) {
    return <LoginScreen address={node.address} node={node.result} onLogin={(u, p, r) => session.login(u, p, r)} />;
  }
  if (!state.user) return null;
  const active = state.active ? state.conversations[state.active] : undefined;
  if (active) {
    return (
      <ChatScreen
        me={state.user}
        link={state.link}
        linkProblem={linkProblem}
        conversation={active}
        onBack={() => session.closeConversation()}
        onSend={(content) => session.sendText(active.key, content)}
        onSendImage={(image) => session.sendImage(active.key, image)}
        onRetry={(localKey) => void session.retry(active.key, localKey).catch(() => undefined)}
        onLoadOlder={() => session.loadOlder(active.key)}
        loadImage={(image) => session.imageUri(image)}
        pickImage={pickImage}
      />
    );
  }
  return (
    <ConversationsScreen
      user={state.user}
      link={state.link}
      linkProblem={linkProblem}
      onSettings={() => setSettings(true)}
      conversations={sortedConversations(state)}
      onOpen={(conversation) => void session.open(conversation.destType, conversation.dest)}
      onStart={(target) =>
        target.startsWith('#') ? session.open('channel', target.toLowerCase()) : session.open('user', target.replace(/^@/, ''))
      }
    />
  );
}
