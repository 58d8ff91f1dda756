/**
 * The composition root of the app: platform services in, one ChatSession, and a small screen
 * state machine (connect -> login -> conversations <-> chat). No navigation library needed.
 * From 900 px wide the conversation list and the open chat sit side by side; narrower, one
 * screen at a time, as on a phone.
 */
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { AppState, SafeAreaView, StatusBar, useWindowDimensions, View } from 'react-native';

import { Switcher } from './components/Switcher';
import { Notice, SmallButton } from './components/ui';
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
import { type ChatState, type Conversation, chatReducer, initialChatState, sortedConversations } from './state/chat';
import { loadDeviceKey } from './state/identity';
import { KnownNodes } from './state/knownNodes';
import { ChatSession, type ConnectResult } from './state/session';
import { ThemeProvider, useTheme } from './theme/ThemeContext';
import { voice } from './theme/voice';
import { artpUrl, openWebSocket } from './transport/websocket';
import { pageIsHttps, pageIsInsecure, registerServiceWorker } from './web/browser';
import { watchShortcuts } from './web/keyboard';
import { askNotificationPermission, notificationPermission, notifyArrivals } from './web/notifications';

const knownNodes = new KnownNodes(plainStore);

/** From this width the list and the chat are shown side by side. */
export const TWO_PANE_WIDTH = 900;
const LIST_PANE_WIDTH = 340;

export default function App() {
  return (
    <ThemeProvider store={plainStore}>
      <ChatApp />
    </ThemeProvider>
  );
}

/** One ChatSession per device key, created in an effect (never as a side effect of rendering). */
function useSession(dispatch: (action: Parameters<typeof chatReducer>[1]) => void, stateRef: { current: ChatState }) {
  const [deviceKey, setDeviceKey] = useState<KeyPair | null>(null);
  const [session, setSession] = useState<ChatSession | null>(null);
  const [startupError, setStartupError] = useState<string | null>(null);

  useEffect(() => {
    loadDeviceKey(secretStore, randomBytes).then(setDeviceKey, (error) => setStartupError(voice.failure('starting', error)));
    registerServiceWorker();
  }, []);

  useEffect(() => {
    if (!deviceKey) return undefined;
    let created: ChatSession;
    try {
      created = new ChatSession({
        aead: platformAead(),
        random: randomBytes,
        deviceKey,
        knownNodes,
        openTransport: (address) => openWebSocket(artpUrl(address, pageIsHttps())),
        dispatch,
        getState: () => stateRef.current,
      });
    } catch {
      setStartupError(voice.insecureWeb);
      return undefined;
    }
    setSession(created);
    const unwatch = watchNetwork({ online: () => created.networkAvailable(), offline: () => created.networkLost() });
    // Back in front (a tab made visible, an app brought back): try at once, not when the timer says.
    const visible = AppState.addEventListener('change', (next) => next === 'active' && created.retryNow());
    return () => {
      unwatch();
      visible.remove();
      created.close();
    };
  }, [deviceKey, dispatch, stateRef]);

  return { session, startupError };
}

function ChatApp() {
  const { palette, scheme } = useTheme();
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  const stateRef = useRef(state);
  const previous = useRef(state);
  stateRef.current = state;
  const { session, startupError } = useSession(dispatch, stateRef);
  // Plain HTTP from another machine: say so above everything (the browser also withholds
  // WebCrypto there, so the app cannot even start).
  const [insecurePage] = useState(pageIsInsecure);
  const [node, setNode] = useState<{ result: ConnectResult; address: string } | null>(null);

  useEffect(() => {
    notifyArrivals(previous.current, state, (conversation) => void session?.open(conversation.destType, conversation.dest));
    previous.current = state;
  }, [state, session]);

  return (
    <SafeAreaView style={{ flex: 1, backgroundColor: palette.background }}>
      <StatusBar barStyle={scheme === 'dark' ? 'light-content' : 'dark-content'} />
      {insecurePage ? <Notice tone="error" text={voice.insecurePage} testID="insecure-page" /> : null}
      {startupError && !insecurePage ? <Notice tone="error" text={startupError} testID="startup-error" /> : null}
      {session ? <Screens session={session} state={state} node={node} setNode={setNode} /> : null}
    </SafeAreaView>
  );
}

interface ScreensProps {
  readonly session: ChatSession;
  readonly state: ChatState;
  readonly node: { result: ConnectResult; address: string } | null;
  readonly setNode: (node: { result: ConnectResult; address: string } | null) => void;
}

function Screens({ session, state, node, setNode }: ScreensProps) {
  if (!node) {
    return (
      <ConnectScreen
        initialAddress={defaultAddress()}
        onConnect={(address) => session.connect(address)}
        onTrustNewKey={(address, fingerprint) => knownNodes.accept(address, fingerprint)}
        onRefuse={() => session.disconnect()}
        onConnected={(result, address) => setNode({ result, address })}
      />
    );
  }
  if (!state.user) {
    const back = () => {
      session.disconnect();
      setNode(null);
    };
    return <LoginScreen address={node.address} node={node.result} onLogin={(u, p, r) => session.login(u, p, r)} onBack={back} />;
  }
  const logout = () => {
    session.logout();
    setNode(null);
  };
  return <SignedIn session={session} state={state} user={state.user} onLogout={logout} />;
}

/** The conversation list and the open chat: side by side on a wide screen, one at a time on a phone. */
function SignedIn({ session, state, user, onLogout }: { session: ChatSession; state: ChatState; user: string; onLogout: () => void }) {
  const { width } = useWindowDimensions();
  const { palette } = useTheme();
  const wide = width >= TWO_PANE_WIDTH;
  const conversations = sortedConversations(state);
  const [unreadAtOpen, setUnreadAtOpen] = useState<Record<string, number>>({});
  const [switcher, setSwitcher] = useState(false);
  const [permission, setPermission] = useState(notificationPermission());

  const open = useCallback(
    (conversation: Conversation) => {
      setUnreadAtOpen((counts) => ({ ...counts, [conversation.key]: conversation.unread }));
      setSwitcher(false);
      void session.open(conversation.destType, conversation.dest).catch(() => undefined);
    },
    [session],
  );

  const listRef = useRef(conversations);
  listRef.current = conversations;
  const activeRef = useRef(state.active);
  activeRef.current = state.active;
  useEffect(
    () =>
      watchShortcuts({
        switcher: () => setSwitcher(true),
        move: (step) => {
          const list = listRef.current;
          const at = list.findIndex((c) => c.key === activeRef.current);
          const next = list[at < 0 ? (step > 0 ? 0 : list.length - 1) : (at + step + list.length) % list.length];
          if (next) open(next);
        },
      }),
    [open],
  );

  const active = state.active ? state.conversations[state.active] : undefined;
  const retryLink = () => session.retryNow();
  const bell =
    permission === 'default' ? (
      <SmallButton
        label="Notify me"
        testID="notifications"
        onPress={() => void askNotificationPermission().then(setPermission)}
      />
    ) : null;

  const list = (
    <ConversationsScreen
      user={user}
      link={state.link}
      linkProblem={state.linkProblem}
      conversations={conversations}
      activeKey={wide ? state.active : null}
      showLink={!(wide && active)}
      onOpen={open}
      onLogout={onLogout}
      onRetryLink={retryLink}
      actions={bell}
      onStart={(target) =>
        target.startsWith('#') ? session.open('channel', target.toLowerCase()) : session.open('user', target.replace(/^@/, ''))
      }
    />
  );
  const chat = active ? (
    <ChatScreen
      key={active.key}
      me={user}
      link={state.link}
      linkProblem={state.linkProblem}
      conversation={active}
      unreadAtOpen={unreadAtOpen[active.key] ?? 0}
      onBack={wide ? undefined : () => session.closeConversation()}
      onSend={(content) => session.sendText(active.key, content)}
      onSendImage={(image) => session.sendImage(active.key, image)}
      onRetry={(localKey) => void session.retry(active.key, localKey).catch(() => undefined)}
      onLoadOlder={() => session.loadOlder(active.key)}
      onLeave={() => session.leave(active.key)}
      onRetryLink={retryLink}
      loadImage={(image) => session.imageUri(image)}
      pickImage={pickImage}
    />
  ) : null;
  const switcherOverlay = <Switcher visible={switcher} conversations={conversations} onPick={open} onClose={() => setSwitcher(false)} />;

  if (!wide) {
    return (
      <>
        {chat ?? list}
        {switcherOverlay}
      </>
    );
  }
  return (
    <View style={{ flex: 1, flexDirection: 'row' }}>
      <View style={{ width: LIST_PANE_WIDTH, borderRightWidth: 1, borderRightColor: palette.secondary }}>{list}</View>
      <View style={{ flex: 1 }}>{chat ?? <Notice testID="no-conversation" text={voice.pickConversation} />}</View>
      {switcherOverlay}
    </View>
  );
}
