/**
 * The composition root of the app: platform services in, one ChatSession, and a small screen
 * state machine (connect -> login -> conversations <-> chat). No navigation library needed.
 */
import { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { SafeAreaView, StatusBar } from 'react-native';

import { Notice } from './components/ui';
import { platformAead } from './platform/aead';
import { defaultAddress } from './platform/defaultAddress';
import { watchNetwork } from './platform/network';
import { pickImage } from './platform/pickImage';
import { randomBytes } from './platform/random';
import { plainStore, secretStore } from './platform/storage';
import type { KeyPair } from './protocol/noise';
import { ChatScreen } from './screens/ChatScreen';
import { ConnectScreen } from './screens/ConnectScreen';
import { ConversationsScreen } from './screens/ConversationsScreen';
import { LoginScreen } from './screens/LoginScreen';
import { type ChatState, chatReducer, initialChatState, sortedConversations } from './state/chat';
import { loadDeviceKey } from './state/identity';
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
  const [deviceKey, setDeviceKey] = useState<KeyPair | null>(null);
  const [startupError, setStartupError] = useState<string | null>(null);
  const [node, setNode] = useState<{ result: ConnectResult; address: string } | null>(null);

  useEffect(() => {
    loadDeviceKey(secretStore, randomBytes).then(setDeviceKey, (error) => setStartupError(voice.failure('starting', error)));
  }, []);

  const session = useMemo(() => {
    if (!deviceKey) return null;
    try {
      return new ChatSession({
        aead: platformAead(),
        random: randomBytes,
        deviceKey,
        knownNodes,
        openTransport: (address) => openWebSocket(artpUrl(address)),
        dispatch,
        getState: () => stateRef.current,
      });
    } catch {
      setStartupError(voice.insecureWeb);
      return null;
    }
  }, [deviceKey]);

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
      {startupError ? <Notice tone="error" text={startupError} testID="startup-error" /> : null}
      {session ? <Screens session={session} state={state} node={node} setNode={setNode} /> : null}
    </SafeAreaView>
  );
}

interface ScreensProps {
  readonly session: ChatSession;
  readonly state: ChatState;
  readonly node: { result: ConnectResult; address: string } | null;
  readonly setNode: (node: { result: ConnectResult; address: string }) => void;
}

function Screens({ session, state, node, setNode }: ScreensProps) {
  if (!node) {
    return (
      <ConnectScreen
        initialAddress={defaultAddress()}
        onConnect={(address) => session.connect(address)}
        onTrustNewKey={(address, fingerprint) => knownNodes.accept(address, fingerprint)}
        onConnected={(result, address) => setNode({ result, address })}
      />
    );
  }
  if (!state.user) {
    return <LoginScreen address={node.address} node={node.result} onLogin={(u, p, r) => session.login(u, p, r)} />;
  }
  const active = state.active ? state.conversations[state.active] : undefined;
  if (active) {
    return (
      <ChatScreen
        me={state.user}
        link={state.link}
        linkProblem={state.linkProblem}
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
      linkProblem={state.linkProblem}
      conversations={sortedConversations(state)}
      onOpen={(conversation) => void session.open(conversation.destType, conversation.dest)}
      onStart={(target) =>
        target.startsWith('#') ? session.open('channel', target.toLowerCase()) : session.open('user', target.replace(/^@/, ''))
      }
    />
  );
}
