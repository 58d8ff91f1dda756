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
 *
 * This module lays the screen out and holds what its parts share (the reply or edit under way,
 * the open menu, errors, jumps); the parts live in components/: the list's scrolling
 * (useTimeline), its rows (TimelineItem), the Composer, the TypingLine, the ChannelInfo line and
 * the ChatDialogs (who reacted, an image full screen).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Platform, Pressable, ScrollView, Text, View } from 'react-native';

import { ChannelInfo } from '../components/ChannelInfo';
import { ImageViewer, ReactorsDialog } from '../components/ChatDialogs';
import { Composer } from '../components/Composer';
import { LinkBanner } from '../components/LinkBanner';
import { MemberSheet } from '../components/MemberSheet';
import { MessageActions } from '../components/MessageActions';
import { type MessageHandlers, TimelineItem } from '../components/TimelineItem';
import { TypingLine } from '../components/TypingLine';
import { useTimeline } from '../components/useTimeline';
import type { ModerationRequest, Reaction } from '../protocol/messages';
import { Button, Header, IconButton, Notice, READABLE_WIDTH, SmallButton, useStyles } from '../components/ui';
import type { ChatMessage, Conversation, LinkStatus } from '../state/chat';
import { reactedBy } from '../state/lifecycle';
import { conversationTitle, sameName } from '../state/names';
import type { ImagePick } from '../state/outbox';
import { useTheme } from '../theme/ThemeContext';
import { voice } from '../theme/voice';
import { canHover, copyText } from '../web/browser';

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
      <ReactorsDialog reactors={reactors} onClose={() => setReactors(null)} />
      <ImageViewer viewing={viewing} onClose={() => setViewing(null)} />
    </View>
  );
}
