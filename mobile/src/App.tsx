/**
 * The composition root of the app: platform services in, one ChatSession, and a small screen
 * state machine (connect -> login -> conversations <-> chat, settings). No navigation library
 * needed. From 900 px wide the conversation list and the open chat sit side by side;
 * narrower, one screen at a time, as on a phone.
 */
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { AppState, SafeAreaView, StatusBar, useWindowDimensions, View } from 'react-native';

import { Switcher } from './components/Switcher';
import { Button, IconButton, Notice } from './components/ui';
import { platformAead } from './platform/aead';
import { conversationStore } from './platform/conversationStore';
import { defaultAddress, learnCommunity, openedInvite } from './platform/defaultAddress';
import { parseAddresses } from './state/community';
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
import { SearchScreen } from './screens/SearchScreen';
import { SettingsScreen } from './screens/SettingsScreen';
import { AccountMemory } from './state/account';
import { type ChatState, type Conversation, chatReducer, initialChatState } from './state/chat';
import { sortedConversations } from './state/conversations';
import { KnownNodes } from './state/knownNodes';
import { ChatSession } from './state/session';
import type { ConnectResult } from './state/sessionTypes';
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
/** Search results read better a little wider than the list. */
const SEARCH_PANE_WIDTH = 420;

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
  const [node, setNode] = useState<{ result: ConnectResult; address: string; invite?: string } | null>(null);
  /** False until the session tried to sign in again as the account this device remembers. */
  const [resumed, setResumed] = useState(false);
  const [settings, setSettings] = useState(false);

  // Plain HTTP from another machine: say so above everything (the browser also withholds
  // WebCrypto there, so the app cannot even start).
  const [insecurePage] = useState(pageIsInsecure);
  const previous = useRef(state);

  useEffect(() => {
    loadDeviceKey(randomBytes).then(setDeviceKey, (error) => setStartupError(voice.failure('starting', error)));
    registerServiceWorker();
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
        openTransport: (address) => openWebSocket(artpUrl(address, pageIsHttps())),
        dispatch,
        getState: () => stateRef.current,
        accounts: new AccountMemory(plainStore),
        outboxStore: outboxStore(),
        conversationStore: conversationStore(),
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
    // The community's other addresses first (web: the node serving the app names them), so
    // even the first sign-in can fail over to them.
    const learned = learnCommunity().then((community) => (community ? session.learnAddresses(community) : undefined));
    learned.catch(() => undefined).then(() => session.resume()).then(
      (result) => {
        if (result.kind === 'needs-password') setNode({ result: result.node, address: result.address });
        setResumed(true);
      },
      () => setResumed(true),
    );
  }, [session]);

  // The conversations are kept on the device, for opening with the node down (issue 12).
  useEffect(() => session?.stateChanged(state), [session, state]);

  useEffect(() => {
    if (!session) return undefined;
    const unwatch = watchNetwork({ online: () => session.networkAvailable(), offline: () => session.networkLost() });
    // Back in front (a tab made visible, an app brought back): try at once, not when the timer says.
    const visible = AppState.addEventListener('change', (next) => next === 'active' && session.retryNow());
    return () => {
      unwatch();
      visible.remove();
      session.close();
    };
  }, [session]);

  useEffect(() => {
    notifyArrivals(previous.current, state, (conversation) => void session?.open(conversation.destType, conversation.dest));
    previous.current = state;
  }, [state, session]);

  return (
    <SafeAreaView style={{ flex: 1, backgroundColor: palette.background }}>
      <StatusBar barStyle={scheme === 'dark' ? 'light-content' : 'dark-content'} />
      {insecurePage ? <Notice tone="error" text={voice.insecurePage} testID="insecure-page" /> : null}
      {problem && !insecurePage ? <Notice tone="error" text={problem} testID="startup-error" /> : null}
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
  readonly node: { result: ConnectResult; address: string; invite?: string } | null;
  readonly setNode: (node: { result: ConnectResult; address: string; invite?: string } | null) => void;
  readonly deviceKey: DeviceKey;
  readonly settings: boolean;
  readonly setSettings: (open: boolean) => void;
}

function Screens({ session, state, node, setNode, deviceKey, settings, setSettings }: ScreensProps) {
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
        initialInvite={openedInvite()}
        onConnect={(address, pinned) => session.connect(address, pinned)}
        onTrustNewKey={(addresses, fingerprint) => knownNodes.accept(session.community.addresses.length > 0 ? session.community.addresses : parseAddresses(addresses), fingerprint)}
        onRefuse={() => session.disconnect()}
        onConnected={(result, address, invite) => setNode({ result, address, ...(invite ? { invite } : {}) })}
      />
    );
  }
  if (!state.user && node) {
    const back = () => {
      session.disconnect();
      setNode(null);
    };
    const invite = node.invite;
    return (
      <LoginScreen
        address={node.address}
        node={node.result}
        invited={invite !== undefined}
        onLogin={(u, p, r) => session.login(u, p, r, invite ? { invite } : {})}
        onReset={(u, token, p) => session.login(u, p, false, { reset: token })}
        onBack={back}
      />
    );
  }
  if (!state.user) return null;
  const logout = () => {
    setNode(null);
    void session.logout().catch(() => undefined);
  };
  return <SignedIn session={session} state={state} user={state.user} onLogout={logout} onSettings={() => setSettings(true)} />;
}

/** The conversation list and the open chat: side by side on a wide screen, one at a time on a phone. */
interface SignedInProps {
  readonly session: ChatSession;
  readonly state: ChatState;
  readonly user: string;
  readonly onLogout: () => void;
  readonly onSettings: () => void;
}

function SignedIn({ session, state, user, onLogout, onSettings }: SignedInProps) {
  const { width } = useWindowDimensions();
  const { palette } = useTheme();
  const wide = width >= TWO_PANE_WIDTH;
  const conversations = sortedConversations(state);
  const [unreadAtOpen, setUnreadAtOpen] = useState<Record<string, number>>({});
  const [switcher, setSwitcher] = useState(false);
  const [permission, setPermission] = useState(notificationPermission());
  const [searching, setSearching] = useState(false);
  /** A message to show in its conversation (a search result), `seq` telling one request from the next. */
  const [jump, setJump] = useState<{ key: string; id: string; seq: number } | null>(null);

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
        search: () => setSearching(true),
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
  const linkProblem = state.linkProblem ? voice.linkProblem(state.linkProblem) : null;
  const retryLink = () => session.retryNow();
  const bell =
    permission === 'default' ? (
      <IconButton
        icon="🔔"
        label="Notify me of new messages"
        testID="notifications"
        onPress={() => void askNotificationPermission().then(setPermission)}
      />
    ) : null;

  const list = (
    <ConversationsScreen
      user={user}
      link={state.link}
      linkProblem={linkProblem}
      movedTo={state.movedTo}
      conversations={conversations}
      activeKey={wide ? state.active : null}
      showLink={!(wide && active)}
      showThemeToggle={!(wide && active)}
      onOpen={open}
      onLogout={onLogout}
      onSettings={onSettings}
      onRetryLink={retryLink}
      actions={bell}
      onSearch={() => setSearching(true)}
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
      linkProblem={linkProblem}
      movedTo={state.movedTo}
      conversation={active}
      unreadAtOpen={unreadAtOpen[active.key] ?? 0}
      onBack={wide ? undefined : () => session.closeConversation()}
      onSend={(content, replyTo) => session.sendText(active.key, content, replyTo)}
      onEdit={(id, content) => session.editMessage(active.key, id, content)}
      onDelete={(id) => session.deleteMessage(active.key, id)}
      onToggleReaction={(id, emoji) => session.toggleReaction(active.key, id, emoji)}
      onDraftChanged={(draft) => session.draftChanged(active.key, draft)}
      typists={(state.typing[active.key] ?? []).map((typist) => typist.name)}
      onJump={(id) => session.bringIntoView(active.key, id)}
      jumpTo={jump?.key === active.key ? jump : null}
      onSearch={() => setSearching(true)}
      onSendImage={(image) => session.sendImage(active.key, image)}
      onRetry={(localKey) => void session.retry(active.key, localKey).catch(() => undefined)}
      onLoadOlder={() => session.loadOlder(active.key)}
      onLeave={() => session.leave(active.key)}
      onRetryLink={retryLink}
      onAtNewest={(atNewest) => session.viewing(active.key, atNewest)}
      loadImage={(image) => session.imageUri(image)}
      pickImage={pickImage}
      onModerate={(request) => session.moderate(request)}
      onBlock={(name, blocked) => session.block(name, blocked)}
      blocked={state.blocked ?? []}
    />
  ) : null;
  const search = searching ? (
    <SearchScreen
      me={user}
      here={active ? { destType: active.destType, dest: active.dest, title: active.destType === 'channel' ? active.dest : `@${active.dest}` } : null}
      onSearch={(query, scope, before) => session.search(query, scope, before)}
      onBack={() => setSearching(false)}
      onPick={(key, destType, dest, id) => {
        if (!wide) setSearching(false);
        setUnreadAtOpen((counts) => ({ ...counts, [key]: 0 }));
        void session.open(destType, dest).then(
          () => setJump((previous) => ({ key, id, seq: (previous?.seq ?? 0) + 1 })),
          () => undefined,
        );
      }}
    />
  ) : null;
  // §14.18: a kick or ban closed a channel under us: say why, until another conversation opens.
  const removed = state.removedFrom ? <Notice tone="warning" testID="removed-notice" text={`Sensei, ${state.removedFrom}.`} /> : null;
  const switcherOverlay = <Switcher visible={switcher} conversations={conversations} onPick={open} onClose={() => setSwitcher(false)} />;

  if (!wide) {
    return (
      <>
        {search || chat ? null : removed}
        {search ?? chat ?? list}
        {switcherOverlay}
      </>
    );
  }
  return (
    <View style={{ flex: 1, flexDirection: 'row' }}>
      <View style={{ width: search ? SEARCH_PANE_WIDTH : LIST_PANE_WIDTH, borderRightWidth: 1, borderRightColor: palette.secondary }}>{search ?? list}</View>
      <View style={{ flex: 1 }}>
        {removed}
        {chat ?? <Notice testID="no-conversation" text={voice.pickConversation} />}
      </View>
      {switcherOverlay}
    </View>
  );
}
