/**
 * A conversation. It opens at the newest message, or at the first unread one under an
 * "unread" line, and stays pinned to the bottom while the user is there; scrolled up, new
 * messages raise a "new messages ↓" pill instead of moving the text being read. History loads
 * as the user scrolls to the top. Messages are grouped by sender, with times, day separators
 * and delivery ticks. Images can be picked, sent with progress, and opened full screen. A
 * channel shows its topic and members, and can be left; `/me waves` sends an action.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  Image,
  type LayoutChangeEvent,
  Modal,
  type NativeScrollEvent,
  type NativeSyntheticEvent,
  Platform,
  Pressable,
  ScrollView,
  Text,
  TextInput,
  View,
} from 'react-native';

import { LinkBanner } from '../components/LinkBanner';
import { MessageBubble } from '../components/MessageBubble';
import { firstUnreadKey, type TimelineRow, timelineRows } from '../components/timeline';
import { Button, dialogName, Header, IconButton, Notice, READABLE_WIDTH, SmallButton, useStyles } from '../components/ui';
import type { Conversation, LinkStatus } from '../state/chat';
import { composeText } from '../state/compose';
import { conversationTitle, sameName } from '../state/names';
import type { ImagePick } from '../state/session';
import { useTheme } from '../theme/ThemeContext';
import { voice } from '../theme/voice';

/** Closer than this to the bottom counts as "at the bottom" (a line and a half). */
const PINNED_SLACK = 48;
/** Closer than this to the top loads the page before. */
const LOAD_OLDER_AT = 120;
/** Scrolled further up than this, my next message no longer pulls the list down. */
const FOLLOW_MINE_UNTIL = 200;
const COMPOSER_MIN = 40;
const COMPOSER_MAX = 140;

export interface ChatScreenProps {
  readonly me: string;
  readonly link: LinkStatus;
  /** Why reconnecting stopped, if it did. */
  readonly linkProblem?: string | null;
  readonly conversation: Conversation;
  /** How many messages were unread when the user opened it: the "unread" line goes above them. */
  readonly unreadAtOpen?: number;
  /** Back to the conversation list (phone layout only; two panes show both). */
  readonly onBack?: () => void;
  readonly onSend: (content: string) => Promise<void>;
  readonly onSendImage: (image: ImagePick) => Promise<void>;
  readonly onRetry: (localKey: string) => void;
  readonly onLoadOlder: () => Promise<void>;
  readonly onLeave?: () => Promise<void>;
  readonly onRetryLink?: () => void;
  readonly loadImage: (image: string) => Promise<string>;
  readonly pickImage: () => Promise<ImagePick | null>;
}

function subtitleOf(conversation: Conversation): string {
  if (conversation.destType === 'user') return 'Direct messages';
  const count = conversation.members?.length;
  return count === undefined ? 'Channel' : count === 1 ? '1 member' : `${count} members`;
}

export function ChatScreen(props: ChatScreenProps) {
  const { conversation } = props;
  const styles = useStyles();
  const { palette: colors } = useTheme();
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<string | null>(null);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const title = conversationTitle(conversation);
  const report = useCallback((action: string) => (caught: unknown) => setError(voice.failure(action, caught)), []);

  const leave = () => {
    setConfirmLeave(false);
    props.onLeave?.().catch(report(`leaving ${title}`));
  };

  const attach = async () => {
    setError(null);
    try {
      const image = await props.pickImage();
      if (image) await props.onSendImage(image);
    } catch (caught) {
      report('sending the image')(caught);
    }
  };

  const timeline = useTimeline(props, report);

  const send = (content: string) => {
    setError(null);
    timeline.pin();
    props.onSend(content).catch(report('sending'));
  };

  return (
    <View style={[styles.screen, { backgroundColor: colors.canvas }]}>
      <Header
        title={title}
        subtitle={subtitleOf(conversation)}
        onBack={props.onBack}
        actions={
          conversation.destType === 'channel' && props.onLeave ? (
            <SmallButton label="Leave" accessibilityLabel={`Leave ${title}`} testID="leave" onPress={() => setConfirmLeave(true)} />
          ) : null
        }
      />
      <LinkBanner link={props.link} problem={props.linkProblem ?? null} onRetry={props.onRetryLink} />
      {confirmLeave ? (
        <Notice testID="confirm-leave" text={`Leave ${title}, Sensei? Its messages will no longer come to you.`}>
          <View style={{ flexDirection: 'row', gap: 8 }}>
            <Button label="Leave" kind="danger" testID="confirm-leave-yes" onPress={leave} />
            <Button label="Stay" kind="quiet" testID="confirm-leave-no" onPress={() => setConfirmLeave(false)} />
          </View>
        </Notice>
      ) : null}
      <ChannelInfo conversation={conversation} />
      <View style={{ flex: 1 }}>
        <ScrollView
          ref={timeline.scrollRef}
          testID="messages"
          // Keyboard users scroll the history too (axe: scrollable-region-focusable).
          {...(Platform.OS === 'web' ? { tabIndex: 0 } : {})}
          onScroll={timeline.onScroll}
          scrollEventThrottle={32}
          onContentSizeChange={timeline.onContentSizeChange}
          onLayout={timeline.onViewportLayout}
          contentContainerStyle={{ paddingVertical: 8, width: '100%', maxWidth: READABLE_WIDTH, alignSelf: 'center' }}
        >
          {conversation.reachedStart ? <Text style={{ color: colors.muted, textAlign: 'center', padding: 8 }}>{voice.beginning(title)}</Text> : null}
          <View role="list" aria-label={`Messages in ${title}`} aria-live="polite" aria-relevant="additions" onLayout={timeline.onListLayout}>
            {timeline.rows.map((row) => (
              <TimelineItem key={row.key} row={row} props={props} onViewImage={setViewing} onUnreadLayout={timeline.onUnreadLayout} />
            ))}
          </View>
        </ScrollView>
        {timeline.pill ? (
          <Pressable
            testID="new-messages"
            role="button"
            onPress={timeline.jumpToEnd}
            style={{
              position: 'absolute',
              bottom: 12,
              alignSelf: 'center',
              backgroundColor: colors.action,
              borderRadius: 16,
              paddingHorizontal: 14,
              paddingVertical: 6,
            }}
          >
            <Text style={{ color: colors.onAction, fontWeight: '700' }}>New messages ↓</Text>
          </Pressable>
        ) : null}
      </View>
      {error ? <Notice tone="error" text={error} testID="chat-error" /> : null}
      <Composer onSend={send} onAttach={attach} onProblem={setError} />
      <Modal visible={viewing !== null} transparent animationType="fade" onRequestClose={() => setViewing(null)} {...dialogName('Image')}>
        <Pressable
          testID="image-viewer"
          aria-label="Close the image"
          onPress={() => setViewing(null)}
          style={{ flex: 1, backgroundColor: '#000000dd', justifyContent: 'center' }}
        >
          {viewing ? <Image source={{ uri: viewing }} style={{ width: '100%', height: '80%' }} resizeMode="contain" alt="" /> : null}
        </Pressable>
      </Modal>
    </View>
  );
}

/** The scroll behaviour of the message list: open at the newest or first unread, stay pinned, pill when away. */
function useTimeline(props: ChatScreenProps, report: (action: string) => (caught: unknown) => void) {
  const { conversation, me, onLoadOlder } = props;
  const scrollRef = useRef<ScrollView>(null);
  const [unreadFrom] = useState(() => firstUnreadKey(conversation.messages, props.unreadAtOpen ?? 0, me));
  const rows = timelineRows(conversation.messages, unreadFrom);
  const [pill, setPill] = useState(false);
  const pinned = useRef(true);
  /** Where the list opens: at the unread line once it is laid out, else at the end; then done. */
  const opening = useRef<'unread' | 'end' | 'done'>(unreadFrom ? 'unread' : 'end');
  const listY = useRef(0);
  const loadingOlder = useRef(false);
  const lastKey = useRef(conversation.messages.at(-1)?.key);

  const toEnd = useCallback((animated: boolean) => scrollRef.current?.scrollToEnd({ animated }), []);

  // New messages at the bottom: follow them when pinned, else raise the pill (not for my own).
  const newest = conversation.messages.at(-1);
  // My own message (new, or its tick changing) is followed while I have not scrolled away:
  // a layout shift of the browser's scroll anchoring must not leave it below the fold.
  const followMine = useRef(false);
  useEffect(() => {
    if (!newest) return;
    const mine = sameName(newest.from, me);
    if (mine && followMine.current) {
      pinned.current = true;
      toEnd(false);
    }
    if (newest.key === lastKey.current) return;
    lastKey.current = newest.key;
    if (!pinned.current && !mine && !newest.system) setPill(true);
  }, [newest, me, toEnd]);

  const onContentSizeChange = useCallback(() => {
    if (opening.current === 'unread' || conversation.messages.length === 0) return; // not yet
    if (opening.current === 'end') opening.current = 'done';
    if (pinned.current) toEnd(false);
  }, [conversation.messages.length, toEnd]);

  /** The unread line is laid out (children report after the list): open there, unpinned. */
  const onUnreadLayout = useCallback((event: LayoutChangeEvent) => {
    if (opening.current !== 'unread') return;
    opening.current = 'done';
    pinned.current = false;
    scrollRef.current?.scrollTo({ y: Math.max(0, listY.current + event.nativeEvent.layout.y - 8), animated: false });
  }, []);

  const loadOlder = useCallback(() => {
    if (loadingOlder.current || conversation.reachedStart) return;
    loadingOlder.current = true;
    onLoadOlder()
      .catch(report('loading history'))
      .finally(() => (loadingOlder.current = false));
  }, [conversation.reachedStart, onLoadOlder, report]);

  const onScroll = useCallback(
    (event: NativeSyntheticEvent<NativeScrollEvent>) => {
      const { contentOffset, contentSize, layoutMeasurement } = event.nativeEvent;
      const fromBottom = contentSize.height - (contentOffset.y + layoutMeasurement.height);
      pinned.current = fromBottom < PINNED_SLACK;
      if (fromBottom > FOLLOW_MINE_UNTIL) followMine.current = false; // scrolled well away
      if (pinned.current) setPill(false);
      if (opening.current === 'done' && contentOffset.y < LOAD_OLDER_AT) loadOlder();
    },
    [loadOlder],
  );

  return {
    scrollRef,
    rows,
    pill,
    onScroll,
    onContentSizeChange,
    onViewportLayout: () => pinned.current && opening.current === 'done' && toEnd(false),
    onListLayout: (event: LayoutChangeEvent) => (listY.current = event.nativeEvent.layout.y),
    onUnreadLayout,
    /** The user sent something: show it, wherever they were. */
    pin: () => {
      pinned.current = true;
      followMine.current = true;
      setPill(false);
    },
    jumpToEnd: () => {
      pinned.current = true;
      setPill(false);
      toEnd(true);
    },
  };
}

interface TimelineItemProps {
  readonly row: TimelineRow;
  readonly props: ChatScreenProps;
  readonly onViewImage: (uri: string) => void;
  readonly onUnreadLayout: (event: LayoutChangeEvent) => void;
}

function TimelineItem({ row, props, onViewImage, onUnreadLayout }: TimelineItemProps) {
  const { palette: colors } = useTheme();
  if (row.kind === 'day') {
    return (
      <View role="listitem" testID="day-separator" style={{ alignItems: 'center', marginTop: 12, marginBottom: 4 }}>
        <Text style={{ color: colors.muted, fontSize: 12, fontWeight: '700', backgroundColor: colors.panel, borderRadius: 10, paddingHorizontal: 10, paddingVertical: 2 }}>
          {row.label}
        </Text>
      </View>
    );
  }
  if (row.kind === 'unread') {
    return (
      <View role="listitem" testID="unread-line" onLayout={onUnreadLayout} style={{ flexDirection: 'row', alignItems: 'center', gap: 8, marginVertical: 8, paddingHorizontal: 10 }}>
        <View style={{ flex: 1, height: 1, backgroundColor: colors.badge }} />
        <Text style={{ color: colors.errorText, fontSize: 12, fontWeight: '700' }}>Unread</Text>
        <View style={{ flex: 1, height: 1, backgroundColor: colors.badge }} />
      </View>
    );
  }
  const { message } = row;
  return (
    <View role="listitem">
      <MessageBubble
        message={message}
        mine={sameName(message.from, props.me)}
        firstOfGroup={row.firstOfGroup}
        lastOfGroup={row.lastOfGroup}
        loadImage={props.loadImage}
        onRetry={() => props.onRetry(message.key)}
        onViewImage={onViewImage}
      />
    </View>
  );
}

/**
 * The composer: a multi-line input without a label above it (its accessible name says what it
 * is) that grows with the text, an attach and a send icon. On the web Enter sends and
 * Shift+Enter starts a new line; on a phone the return key adds a line and the button sends.
 */
function Composer({ onSend, onAttach, onProblem }: { onSend: (content: string) => void; onAttach: () => void; onProblem: (problem: string) => void }) {
  const styles = useStyles();
  const { palette: colors } = useTheme();
  const [draft, setDraft] = useState('');
  const [height, setHeight] = useState(COMPOSER_MIN);

  const send = () => {
    const composed = composeText(draft);
    if (!composed) return;
    if ('problem' in composed) {
      onProblem(voice.composeProblem(composed.problem)); // the draft stays, to be finished
      return;
    }
    setDraft('');
    setHeight(COMPOSER_MIN);
    onSend(composed.content);
  };

  const onKeyPress = (event: NativeSyntheticEvent<{ key: string }>) => {
    if (Platform.OS !== 'web') return;
    const key = event.nativeEvent as unknown as { key: string; shiftKey?: boolean; isComposing?: boolean };
    if (key.key !== 'Enter' || key.shiftKey || key.isComposing) return;
    event.preventDefault();
    send();
  };

  return (
    <View style={{ backgroundColor: colors.panel, borderTopColor: colors.secondary, borderTopWidth: 1 }}>
      <View style={{ flexDirection: 'row', alignItems: 'flex-end', gap: 6, padding: 8, width: '100%', maxWidth: READABLE_WIDTH, alignSelf: 'center' }}>
        <IconButton icon="+" large label="Attach a photo" testID="attach" onPress={onAttach} />
        <TextInput
          testID="composer"
          aria-label="Message"
          placeholder="Say hello to Arona…"
          placeholderTextColor={colors.muted}
          value={draft}
          onChangeText={setDraft}
          multiline
          onKeyPress={onKeyPress}
          onContentSizeChange={(event) => setHeight(Math.min(COMPOSER_MAX, Math.max(COMPOSER_MIN, Math.ceil(event.nativeEvent.contentSize.height))))}
          style={[styles.input, { flex: 1, height, borderRadius: 20, paddingTop: 9, paddingBottom: 9 }]}
        />
        <IconButton icon="➤" label="Send" testID="send" filled onPress={send} disabled={!draft.trim()} />
      </View>
    </View>
  );
}

/** A channel's topic and who is in it, as the node last told us (JOIN's OK, then events). */
function ChannelInfo({ conversation }: { conversation: Conversation }) {
  const { palette: colors } = useTheme();
  if (conversation.destType !== 'channel' || !conversation.members) return null;
  const members = conversation.members;
  return (
    <View style={{ paddingHorizontal: 12, paddingVertical: 4, backgroundColor: colors.surface, borderBottomColor: colors.panel, borderBottomWidth: 1 }}>
      {conversation.topic ? (
        <Text testID="channel-topic" style={{ color: colors.foreground }} numberOfLines={1}>
          {conversation.topic}
        </Text>
      ) : null}
      <Text testID="channel-members" numberOfLines={1} style={{ color: colors.muted, fontSize: 12 }}>
        {members.length === 1 ? '1 member' : `${members.length} members`}: {members.join(', ')}
      </Text>
    </View>
  );
}
