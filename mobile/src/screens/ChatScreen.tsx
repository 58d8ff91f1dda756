/**
 * A conversation. It opens at the newest message, or at the first unread one under an
 * "unread" line, and stays pinned to the bottom while the user is there; scrolled up, new
 * messages raise a "new messages ↓" pill instead of moving the text being read. History loads
 * as the user scrolls to the top. Messages are grouped by sender, with times, day separators
 * and delivery ticks. Images can be picked, sent with progress, and opened full screen. A
 * channel shows its topic and members, and can be left; `/me waves` sends an action.
 *
 * ArTP/1.1 lifecycle: each message has an actions menu (long-press on a phone, the ⋯ button on
 * hover on a desktop): react, reply, edit and delete my own, copy. A swipe right replies on a
 * phone; the composer then shows what is answered (or edited), Esc cancels, and on a desktop Up
 * in an empty composer edits my last message. A tapped quote or search result is brought into
 * the timeline (HISTORY around) and scrolled to, highlighted for a moment. Who is typing shows
 * above the composer.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
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
import { MemberSheet } from '../components/MemberSheet';
import { MessageActions } from '../components/MessageActions';
import { MessageBubble } from '../components/MessageBubble';
import type { ModerationRequest, Reaction } from '../protocol/messages';
import { compareByRole, roleMark } from '../protocol/moderation';
import { firstUnreadKey, type TimelineRow, timelineRows } from '../components/timeline';
import { Button, dialogName, Header, IconButton, Notice, READABLE_WIDTH, SmallButton, useStyles } from '../components/ui';
import type { ChatMessage, Conversation, LinkStatus } from '../state/chat';
import { reactedBy } from '../state/lifecycle';
import { composeText } from '../state/compose';
import { conversationTitle, sameName } from '../state/names';
import type { ImagePick } from '../state/session';
import { useTheme } from '../theme/ThemeContext';
import { voice } from '../theme/voice';
import { canHover, copyText } from '../web/browser';

/** Closer than this to the bottom counts as "at the bottom" (a line and a half). */
const PINNED_SLACK = 48;
/** Closer than this to the top loads the page before. */
const LOAD_OLDER_AT = 120;
/** Scrolled further up than this, my next message no longer pulls the list down. */
const FOLLOW_MINE_UNTIL = 200;
const COMPOSER_MIN = 40;
/** How long a jump to a message may take to fetch it, and how long it then holds the list still. */
const JUMP_FETCH_MS = 15_000;
const JUMP_HOLD_MS = 1500;
const COMPOSER_MAX = 140;

export interface ChatScreenProps {
  readonly me: string;
  readonly link: LinkStatus;
  /** Why reconnecting stopped, if it did. */
  readonly linkProblem?: string | null;
  /** Failover: the community node the session moved to, told until the link changes. */
  readonly movedTo?: string;
  readonly conversation: Conversation;
  /** How many messages were unread when the user opened it: the "unread" line goes above them. */
  readonly unreadAtOpen?: number;
  /** Back to the conversation list (phone layout only; two panes show both). */
  readonly onBack?: () => void;
  readonly onSend: (content: string, replyTo?: string) => Promise<void>;
  /** §14.10-14.12: my edits, deletes and reactions. */
  readonly onEdit?: (id: string, content: string) => Promise<void>;
  readonly onDelete?: (id: string) => Promise<void>;
  readonly onToggleReaction?: (id: string, emoji: string) => Promise<void>;
  /** §14.13: the draft changed (the session tells the others "typing…"). */
  readonly onDraftChanged?: (draft: string) => void;
  /** Who else is typing here now. */
  readonly typists?: readonly string[];
  /** Bring message `id` into the timeline (HISTORY around); false when it cannot be. */
  readonly onJump?: (id: string) => Promise<boolean>;
  /** A message to jump to as the screen shows (a search result); `seq` makes each request new. */
  readonly jumpTo?: { readonly id: string; readonly seq: number } | null;
  /** Open the search screen. */
  readonly onSearch?: () => void;
  readonly onSendImage: (image: ImagePick) => Promise<void>;
  readonly onRetry: (localKey: string) => void;
  readonly onLoadOlder: () => Promise<void>;
  readonly onLeave?: () => Promise<void>;
  readonly onRetryLink?: () => void;
  /**
   * Whether the conversation is on screen scrolled to its newest message: said when that
   * changes, and again (true) when a new message arrives while it is (the session reads it).
   */
  readonly onAtNewest?: (atNewest: boolean) => void;
  readonly loadImage: (image: string) => Promise<string>;
  readonly pickImage: () => Promise<ImagePick | null>;
  /** §14.16-14.19: an operator's request from the member sheet, and blocking a member. */
  readonly onModerate?: (request: ModerationRequest) => Promise<void>;
  readonly onBlock?: (user: string, blocked: boolean) => Promise<void>;
  /** Who this account blocks (the member sheet offers to unblock them). */
  readonly blocked?: readonly string[];
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
  const [membersOpen, setMembersOpen] = useState(false);
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
  const [hover] = useState(canHover);
  const [menuFor, setMenuFor] = useState<ChatMessage | null>(null);
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [editing, setEditing] = useState<ChatMessage | null>(null);
  const [reactors, setReactors] = useState<Reaction | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { onJump, jumpTo } = props;

  const jump = useCallback(
    async (id: string) => {
      setError(null);
      timeline.unpin();
      try {
        const present = onJump ? await onJump(id) : conversation.messages.some((m) => m.id === id);
        if (!present) {
          timeline.jumpFailed();
          setError(voice.messageGone);
          return;
        }
        timeline.scrollToMessage(id);
      } catch (caught) {
        timeline.jumpFailed();
        report('finding that message')(caught);
      }
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the timeline's verbs are stable refs
    [onJump, report, conversation.messages],
  );
  const lastJump = useRef<number | null>(null);
  useEffect(() => {
    if (!jumpTo || lastJump.current === jumpTo.seq) return;
    lastJump.current = jumpTo.seq;
    void jump(jumpTo.id);
  }, [jumpTo, jump]);

  const send = (content: string) => {
    setError(null);
    if (editing?.id !== undefined) {
      const id = editing.id;
      setEditing(null);
      if (content !== editing.content) props.onEdit?.(id, content).catch(report('editing'));
      return;
    }
    timeline.pin();
    const answering = replyTo?.id;
    setReplyTo(null);
    props.onSend(content, answering).catch(report('sending'));
  };

  const startReply = (message: ChatMessage) => {
    setEditing(null);
    setReplyTo(message);
  };
  const startEdit = (message: ChatMessage) => {
    setReplyTo(null);
    setEditing(message);
  };
  /** Up in an empty composer (desktop): edit my newest message still standing. */
  const editLast = (): boolean => {
    const last = [...conversation.messages].reverse().find((m) => sameName(m.from, props.me) && m.id !== undefined && !m.system && !m.deleted && !m.attachment);
    if (!last) return false;
    startEdit(last);
    return true;
  };
  const toggleReaction = (message: ChatMessage, emoji: string) => {
    if (message.id === undefined) return;
    props.onToggleReaction?.(message.id, emoji).catch(report('reacting'));
  };
  const actions: MessageHandlers = {
    me: props.me,
    hover,
    highlighted: timeline.highlighted,
    openActions: setMenuFor,
    reply: startReply,
    jumpToQuote: (id) => void jump(id),
    toggleReaction,
    showReactors: setReactors,
  };

  return (
    <View style={[styles.screen, { backgroundColor: colors.canvas }]}>
      <Header
        title={title}
        subtitle={subtitleOf(conversation)}
        onBack={props.onBack}
        actions={
          <>
            {props.onSearch ? <IconButton icon="🔍" label="Search messages" testID="chat-search" onPress={props.onSearch} /> : null}
            {conversation.destType === 'channel' && props.onLeave ? (
              <SmallButton label="Leave" accessibilityLabel={`Leave ${title}`} testID="leave" onPress={() => setConfirmLeave(true)} />
            ) : null}
          </>
        }
      />
      <LinkBanner link={props.link} problem={props.linkProblem ?? null} onRetry={props.onRetryLink} movedTo={props.movedTo} />
      {confirmLeave ? (
        <Notice testID="confirm-leave" text={`Leave ${title}, Sensei? Its messages will no longer come to you.`}>
          <View style={{ flexDirection: 'row', gap: 8 }}>
            <Button label="Leave" kind="danger" testID="confirm-leave-yes" onPress={leave} />
            <Button label="Stay" kind="quiet" testID="confirm-leave-no" onPress={() => setConfirmLeave(false)} />
          </View>
        </Notice>
      ) : null}
      <ChannelInfo conversation={conversation} onMembers={props.onModerate ? () => setMembersOpen(true) : undefined} />
      {props.onModerate && props.onBlock && conversation.destType === 'channel' ? (
        <MemberSheet
          visible={membersOpen}
          conversation={conversation}
          me={props.me}
          blocked={props.blocked ?? []}
          onModerate={props.onModerate}
          onBlock={props.onBlock}
          onClose={() => setMembersOpen(false)}
        />
      ) : null}
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
              <TimelineItem key={row.key} row={row} props={props} handlers={actions} onViewImage={setViewing} onUnreadLayout={timeline.onUnreadLayout} />
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
      {notice ? <Notice text={notice} testID="chat-notice" /> : null}
      <TypingLine typists={props.typists ?? []} />
      <Composer
        onSend={send}
        onAttach={attach}
        onProblem={setError}
        onDraftChanged={props.onDraftChanged}
        replyTo={replyTo}
        editing={editing}
        onCancel={() => {
          setReplyTo(null);
          setEditing(null);
        }}
        onEditLast={hover ? editLast : undefined}
      />
      <MessageActions
        message={menuFor}
        openedByTouch={!hover}
        mine={menuFor !== null && sameName(menuFor.from, props.me)}
        myReactions={menuFor?.reactions?.filter((r) => menuFor && reactedBy(menuFor, r.emoji, props.me)).map((r) => r.emoji) ?? []}
        onClose={() => setMenuFor(null)}
        onReact={(emoji) => menuFor && toggleReaction(menuFor, emoji)}
        onReply={() => menuFor && startReply(menuFor)}
        onEdit={() => menuFor && startEdit(menuFor)}
        onDelete={() => menuFor?.id !== undefined && props.onDelete?.(menuFor.id).catch(report('deleting'))}
        onCopy={() => {
          const text = menuFor?.content ?? '';
          void copyText(text).then((copied) => {
            setNotice(copied ? 'Copied, Sensei!' : null);
            setTimeout(() => setNotice(null), 2000);
          });
        }}
      />
      <Modal visible={reactors !== null} transparent animationType="fade" onRequestClose={() => setReactors(null)} {...dialogName('Who reacted')}>
        <Pressable aria-label="Close" onPress={() => setReactors(null)} style={{ flex: 1, backgroundColor: '#00000055', justifyContent: 'center', alignItems: 'center' }}>
          <View testID="reactors" style={{ backgroundColor: colors.surface, borderRadius: 12, padding: 16, maxWidth: 320, gap: 6 }}>
            <Text style={{ fontSize: 28, textAlign: 'center' }}>{reactors?.emoji}</Text>
            <Text style={{ color: colors.foreground }}>
              {reactors ? reactorsText(reactors) : ''}
            </Text>
          </View>
        </Pressable>
      </Modal>
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
  const { conversation, me, onLoadOlder, onAtNewest } = props;
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
  /**
   * A jump under way (the message being fetched, `id` empty) or just made: until `until` (ms),
   * nothing pulls the list to the bottom, and growing content keeps the message in place.
   */
  const jumping = useRef<{ id: string; until: number } | null>(null);
  const isJumping = () => jumping.current !== null && Date.now() < jumping.current.until;

  /** Tell the session where the user is; `atNewest` false while opening at the unread line. */
  const atNewestRef = useRef(onAtNewest);
  atNewestRef.current = onAtNewest;
  const reported = useRef<boolean | null>(null);
  /** Say it again even if unchanged (`always`: a new message arrived while at the newest). */
  const reportPinned = useCallback((always = false) => {
    const atNewest = pinned.current && opening.current !== 'unread';
    if (atNewest === reported.current && !(always && atNewest)) return;
    reported.current = atNewest;
    atNewestRef.current?.(atNewest);
  }, []);
  useEffect(() => () => atNewestRef.current?.(false), []); // leaving the screen

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
    if (pinned.current) reportPinned(true);
    if (newest.key === lastKey.current) return;
    lastKey.current = newest.key;
    if (!pinned.current && !mine && !newest.system) setPill(true);
  }, [newest, me, toEnd, reportPinned]);

  const onContentSizeChange = useCallback(() => {
    if (isJumping()) {
      if (jumping.current?.id) scrollIntoView(jumping.current.id);
      return;
    }
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
      pinned.current = fromBottom < PINNED_SLACK && !isJumping();
      reportPinned();
      if (fromBottom > FOLLOW_MINE_UNTIL) followMine.current = false; // scrolled well away
      if (pinned.current) setPill(false);
      if (opening.current === 'done' && contentOffset.y < LOAD_OLDER_AT) loadOlder();
    },
    [loadOlder, reportPinned],
  );

  const [highlighted, setHighlighted] = useState<string | null>(null);
  const highlightTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (highlightTimer.current) clearTimeout(highlightTimer.current);
  }, []);
  /** Scroll message `id` to the middle of the list and mark it for a moment (it may still be rendering). */
  const scrollToMessage = useCallback((id: string) => {
    opening.current = 'done';
    pinned.current = false;
    jumping.current = { id, until: Date.now() + JUMP_HOLD_MS };
    reportPinned();
    setHighlighted(id);
    if (highlightTimer.current) clearTimeout(highlightTimer.current);
    highlightTimer.current = setTimeout(() => setHighlighted(null), 2500);
    let tries = 0;
    const attempt = () => {
      tries += 1;
      if (scrollIntoView(id) || tries > 60) return;
      setTimeout(attempt, 50);
    };
    attempt();
  }, [reportPinned]);

  return {
    scrollRef,
    rows,
    pill,
    highlighted,
    scrollToMessage,
    /** A jump is coming: new pages must not pull the list to the bottom. */
    unpin: () => {
      opening.current = 'done';
      pinned.current = false;
      jumping.current = { id: '', until: Date.now() + JUMP_FETCH_MS };
    },
    /** The jump found nothing: back to normal. */
    jumpFailed: () => {
      jumping.current = null;
    },
    onScroll,
    onContentSizeChange,
    onViewportLayout: () => pinned.current && opening.current === 'done' && !isJumping() && toEnd(false),
    onListLayout: (event: LayoutChangeEvent) => (listY.current = event.nativeEvent.layout.y),
    onUnreadLayout,
    /** The user sent something: show it, wherever they were. */
    pin: () => {
      jumping.current = null;
      pinned.current = true;
      followMine.current = true;
      setPill(false);
    },
    jumpToEnd: () => {
      jumping.current = null;
      pinned.current = true;
      setPill(false);
      toEnd(true);
    },
  };
}

/** Message `id`'s bubble scrolled to the middle of the list (web: the DOM; elsewhere not yet). */
function scrollIntoView(id: string): boolean {
  const document = (globalThis as { document?: Document }).document;
  const element = document?.querySelector(`[data-message-id="${CSS.escape(id)}"]`);
  if (!element) return false;
  element.scrollIntoView({ block: 'center' });
  return true;
}

/** Who reacted with an emoji, in words (the node names at most ten). */
function reactorsText(reaction: Reaction): string {
  const names = reaction.users ?? [];
  const more = reaction.count - names.length;
  return names.length === 0 ? `${reaction.count} reacted` : `${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** What a bubble can do, from the chat screen. */
interface MessageHandlers {
  readonly me: string;
  readonly hover: boolean;
  readonly highlighted: string | null;
  readonly openActions: (message: ChatMessage) => void;
  readonly reply: (message: ChatMessage) => void;
  readonly jumpToQuote: (id: string) => void;
  readonly toggleReaction: (message: ChatMessage, emoji: string) => void;
  readonly showReactors: (reaction: Reaction) => void;
}

interface TimelineItemProps {
  readonly row: TimelineRow;
  readonly props: ChatScreenProps;
  readonly handlers: MessageHandlers;
  readonly onViewImage: (uri: string) => void;
  readonly onUnreadLayout: (event: LayoutChangeEvent) => void;
}

function TimelineItem({ row, props, handlers, onViewImage, onUnreadLayout }: TimelineItemProps) {
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
        me={handlers.me}
        highlighted={handlers.highlighted !== null && handlers.highlighted === message.id}
        onOpenActions={message.id !== undefined && message.deleted === undefined ? () => handlers.openActions(message) : undefined}
        hoverActions={handlers.hover}
        swipeEnabled={!handlers.hover}
        onSwipeReply={() => handlers.reply(message)}
        onJumpToQuote={handlers.jumpToQuote}
        onToggleReaction={(emoji) => handlers.toggleReaction(message, emoji)}
        onShowReactors={handlers.showReactors}
      />
    </View>
  );
}

/** "kei is typing…" above the composer (§14.13), read politely by a screen reader. */
export function typingText(typists: readonly string[]): string {
  if (typists.length === 0) return '';
  if (typists.length === 1) return `${typists[0]} is typing…`;
  if (typists.length === 2) return `${typists[0]} and ${typists[1]} are typing…`;
  return 'Several people are typing…';
}

function TypingLine({ typists }: { typists: readonly string[] }) {
  const { palette: colors } = useTheme();
  const text = typingText(typists);
  return (
    <View aria-live="polite" style={{ minHeight: 18, paddingHorizontal: 16, width: '100%', maxWidth: READABLE_WIDTH, alignSelf: 'center' }}>
      {text ? (
        <Text testID="typing-line" style={{ color: colors.muted, fontSize: 12, fontStyle: 'italic' }}>
          {text}
        </Text>
      ) : null}
    </View>
  );
}

interface ComposerProps {
  readonly onSend: (content: string) => void;
  readonly onAttach: () => void;
  readonly onProblem: (problem: string) => void;
  readonly onDraftChanged?: (draft: string) => void;
  /** The message being answered, shown above the input. */
  readonly replyTo: ChatMessage | null;
  /** My message being edited: its text fills the input; sending saves the edit. */
  readonly editing: ChatMessage | null;
  /** Stop replying or editing (the ✕, or Esc). */
  readonly onCancel: () => void;
  /** Up in an empty input (desktop): edit my last message; true when there was one. */
  readonly onEditLast?: () => boolean;
}

/**
 * The composer: a multi-line input without a label above it (its accessible name says what it
 * is) that grows with the text, an attach and a send icon. On the web Enter sends and
 * Shift+Enter starts a new line; on a phone the return key adds a line and the button sends.
 * Above it, what is being answered or edited, with a ✕ (Esc does the same).
 */
function Composer({ onSend, onAttach, onProblem, onDraftChanged, replyTo, editing, onCancel, onEditLast }: ComposerProps) {
  const styles = useStyles();
  const { palette: colors } = useTheme();
  const [draft, setDraft] = useState('');
  const [height, setHeight] = useState(COMPOSER_MIN);
  const input = useRef<TextInput>(null);
  const kept = useRef('');

  // Editing fills the input with the message (what was typed before comes back after);
  // replying keeps the draft. Either way the input takes the focus.
  const editingKey = editing?.key;
  useEffect(() => {
    if (editing) {
      kept.current = draft;
      setDraft(editing.content);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when another message is picked
  }, [editingKey]);
  useEffect(() => {
    if (editing || replyTo) input.current?.focus();
  }, [editing, replyTo]);

  const change = (text: string) => {
    setDraft(text);
    if (!editing) onDraftChanged?.(text);
  };

  const cancel = () => {
    if (editing) setDraft(kept.current);
    onCancel();
  };

  const send = () => {
    const composed = composeText(draft);
    if (!composed) return;
    if ('problem' in composed) {
      onProblem(voice.composeProblem(composed.problem)); // the draft stays, to be finished
      return;
    }
    setDraft(editing ? kept.current : '');
    setHeight(COMPOSER_MIN);
    onSend(composed.content);
  };

  const onKeyPress = (event: NativeSyntheticEvent<{ key: string }>) => {
    if (Platform.OS !== 'web') return;
    const key = event.nativeEvent as unknown as { key: string; shiftKey?: boolean; isComposing?: boolean };
    if (key.isComposing) return;
    if (key.key === 'Escape' && (editing || replyTo)) {
      event.preventDefault();
      cancel();
      return;
    }
    if (key.key === 'ArrowUp' && draft === '' && !editing && onEditLast?.()) {
      event.preventDefault();
      return;
    }
    if (key.key !== 'Enter' || key.shiftKey) return;
    event.preventDefault();
    send();
  };

  const context = editing ? { title: 'Editing your message', text: editing.content } : replyTo ? { title: `Replying to ${replyTo.from}`, text: replyTo.content || 'an image' } : null;

  return (
    <View style={{ backgroundColor: colors.panel, borderTopColor: colors.secondary, borderTopWidth: 1 }}>
      {context ? (
        <View testID={editing ? 'composer-editing' : 'composer-reply'} style={{ flexDirection: 'row', alignItems: 'center', gap: 8, paddingHorizontal: 12, paddingTop: 8, width: '100%', maxWidth: READABLE_WIDTH, alignSelf: 'center' }}>
          <View style={{ flex: 1, minWidth: 0, borderLeftWidth: 3, borderLeftColor: colors.action, paddingLeft: 8 }}>
            <Text style={{ color: colors.link, fontWeight: '700', fontSize: 13 }}>{context.title}</Text>
            <Text numberOfLines={1} style={{ color: colors.muted, fontSize: 13 }}>
              {context.text}
            </Text>
          </View>
          <IconButton icon="✕" label={editing ? 'Cancel the edit' : 'Cancel the reply'} testID="composer-cancel" onPress={cancel} />
        </View>
      ) : null}
      <View style={{ flexDirection: 'row', alignItems: 'flex-end', gap: 6, padding: 8, width: '100%', maxWidth: READABLE_WIDTH, alignSelf: 'center' }}>
        {editing ? null : <IconButton icon="+" large label="Attach a photo" testID="attach" onPress={onAttach} />}
        <TextInput
          ref={input}
          testID="composer"
          aria-label={editing ? 'Edit message' : replyTo ? `Reply to ${replyTo.from}` : 'Message'}
          placeholder={editing ? 'Edit your message…' : 'Say hello to Arona…'}
          placeholderTextColor={colors.muted}
          value={draft}
          onChangeText={change}
          multiline
          onKeyPress={onKeyPress}
          onContentSizeChange={(event) => setHeight(Math.min(COMPOSER_MAX, Math.max(COMPOSER_MIN, Math.ceil(event.nativeEvent.contentSize.height))))}
          style={[styles.input, { flex: 1, height, borderRadius: 20, paddingTop: 9, paddingBottom: 9 }]}
        />
        <IconButton icon={editing ? '✓' : '➤'} label={editing ? 'Save the edit' : 'Send'} testID="send" filled onPress={send} disabled={!draft.trim()} />
      </View>
    </View>
  );
}

/** Names in the channel's one-line member summary (the member sheet lists everyone). */
const NAMES_IN_LINE = 40;

/**
 * A channel's topic and who is in it, as the node last told us (JOIN's OK, then events), each
 * name with its role's mark (~ owner, @ operator, + voiced), strongest first; `onMembers`
 * opens the member sheet.
 */
function ChannelInfo({ conversation, onMembers }: { conversation: Conversation; onMembers?: () => void }) {
  const { palette: colors } = useTheme();
  const { members: all, roles } = conversation;
  // One line: the strongest names first, not a thousand-name string on every render.
  const shown = useMemo(() => {
    const held = roles ?? {};
    return [...(all ?? [])]
      .sort((a, b) => compareByRole(held, a, b))
      .slice(0, NAMES_IN_LINE)
      .map((name) => `${roleMark(held[name.toLowerCase()])}${name}`);
  }, [all, roles]);
  if (conversation.destType !== 'channel' || !all) return null;
  const members = all.length > shown.length ? [...shown, '…'] : shown;
  return (
    <View style={{ paddingHorizontal: 12, paddingVertical: 4, backgroundColor: colors.surface, borderBottomColor: colors.panel, borderBottomWidth: 1 }}>
      {conversation.topic ? (
        <Text testID="channel-topic" style={{ color: colors.foreground }} numberOfLines={1}>
          {conversation.topic}
        </Text>
      ) : null}
      <View style={{ flexDirection: 'row', alignItems: 'center', gap: 8 }}>
        <Text testID="channel-members" numberOfLines={1} style={{ color: colors.muted, fontSize: 12, flex: 1 }}>
          {all.length === 1 ? '1 member' : `${all.length} members`}: {members.join(', ')}
        </Text>
        {onMembers ? <SmallButton label="Members" accessibilityLabel="Members and channel settings" testID="open-members" onPress={onMembers} /> : null}
      </View>
    </View>
  );
}
