/**
 * One message: sender (first of a group only), text or image, the time, and for my own
 * messages a small delivery tick (pending ◷, sent ✓, failed ⚠ with a retry button naming the
 * node's error code). An image being sent shows how much of it the node has acknowledged
 * holding. A `/me` action reads `* kei waves`; a join, part or topic change is a quiet centred
 * line rather than a bubble.
 *
 * ArTP/1.1 lifecycle: a reply shows the quoted message above its text (tap: jump to it), an
 * edited message says "(edited)", a deleted one is a "Message deleted" tombstone, reactions are
 * chips under the bubble (tap to toggle mine; who reacted in the tooltip or on long-press), a
 * message that mentions me has a border in the mention colour, and long-press (phones) or the
 * ⋯ button on hover (desktop) opens the actions menu; on a phone a swipe right replies.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { Animated, Image, PanResponder, Platform, Pressable, Text, View } from 'react-native';

import { mentions } from '../protocol/mentions';
import type { Reaction } from '../protocol/messages';
import type { ChatMessage } from '../state/chat';
import { reactedBy } from '../state/lifecycle';
import { useTheme } from '../theme/ThemeContext';
import { nickColour } from '../theme/theme';
import { actionLineText, systemLineText } from './lineText';
import { pressedState, ScreenReaderText } from './ui';
import { timeLabel } from './timeline';

export interface MessageBubbleProps {
  readonly message: ChatMessage;
  readonly mine: boolean;
  /** The first message of a run from one sender: show the name, leave a gap above. */
  readonly firstOfGroup?: boolean;
  /** The last of the run: show the time (once per group). */
  readonly lastOfGroup?: boolean;
  readonly loadImage: (image: string) => Promise<string>;
  readonly onRetry: () => void;
  readonly onViewImage: (uri: string) => void;
  /** Who is signed in: mentions of them stand out, their reactions show as theirs. */
  readonly me?: string;
  /** Briefly marked: the message jumped to (a tapped quote, a search result). */
  readonly highlighted?: boolean;
  /** Open the actions menu (long-press, or the ⋯ button). */
  readonly onOpenActions?: () => void;
  /** Show the ⋯ button on hover (a desktop with a mouse). */
  readonly hoverActions?: boolean;
  /** Swipe right to reply (a phone). */
  readonly swipeEnabled?: boolean;
  readonly onSwipeReply?: () => void;
  readonly onJumpToQuote?: (id: string) => void;
  readonly onToggleReaction?: (emoji: string) => void;
  readonly onShowReactors?: (reaction: Reaction) => void;
}

/** What the tick of my message means, in words; a failure carries its code (RATE_LIMITED, NO_SUCH_USER…). */
export function statusLabel(message: ChatMessage): string {
  if (message.status === 'pending') return 'sending…';
  if (message.status === 'sent') return 'sent';
  return message.error ? `failed: ${message.error.code}, tap to retry` : 'failed, tap to retry';
}

/** The tick itself: small, so it does not shout on every bubble. */
export function statusTick(message: ChatMessage): string {
  if (message.status === 'pending') return '◷';
  if (message.status === 'sent') return '✓';
  return message.error ? `⚠ ${message.error.code} · Retry` : '⚠ Retry';
}

/** Upload progress in words: it counts bytes the node acknowledged, and says so. */
export function progressLabel(progress: number): string {
  return `${Math.round(progress * 100)}% received by the node`;
}

/** What a reaction chip says to a screen reader and in its tooltip: the emoji, the count, who. */
export function reactionLabel(reaction: Reaction, mine: boolean): string {
  const names = reaction.users ?? [];
  const others = reaction.count - names.length;
  const who = names.length === 0 ? '' : ` by ${names.join(', ')}${others > 0 ? ` and ${others} more` : ''}`;
  return `${reaction.emoji} ${reaction.count}, reacted${who}${mine ? '. Tap to remove yours' : '. Tap to add yours'}`;
}

/** How far a swipe to the right must go to mean "reply". */
const SWIPE_REPLY = 64;

export function MessageBubble(props: MessageBubbleProps) {
  const { message, mine, firstOfGroup = true, lastOfGroup = true, loadImage, onRetry, onViewImage } = props;
  const { palette: colors } = useTheme();
  const [hovered, setHovered] = useState(false);
  const swipe = useSwipeToReply(props.swipeEnabled === true && message.id !== undefined && !message.deleted, props.onSwipeReply);
  if (message.system) return <SystemLine message={message} />;
  const action = actionLineText(message);
  const failed = message.status === 'failed';
  const mentioned = !mine && props.me !== undefined && !message.deleted && mentions(message.content, props.me);
  const canAct = props.onOpenActions !== undefined && message.id !== undefined;
  const showActionsButton = canAct && props.hoverActions === true;
  const reactions = message.reactions ?? [];
  return (
    <View style={{ alignSelf: mine ? 'flex-end' : 'flex-start', maxWidth: '82%', marginHorizontal: 10, marginTop: firstOfGroup ? 10 : 2 }}>
      <Animated.View
        {...swipe.handlers}
        style={{ flexDirection: mine ? 'row-reverse' : 'row', alignItems: 'center', gap: 4, transform: [{ translateX: swipe.offset }] }}
      >
        <Pressable
          testID={`message-${message.key}`}
          // The node's id, for jumping to it (a sent message keeps its local key as its testID).
          {...(message.id !== undefined ? ({ dataSet: { messageId: message.id } } as object) : {})}
          onLongPress={canAct ? props.onOpenActions : undefined}
          delayLongPress={450}
          onHoverIn={() => setHovered(true)}
          onHoverOut={() => setHovered(false)}
          focusable={false}
          style={{
            flexShrink: 1,
            paddingHorizontal: 12,
            paddingVertical: 7,
            borderRadius: 16,
            borderTopLeftRadius: !mine && firstOfGroup ? 4 : 16,
            borderTopRightRadius: mine && firstOfGroup ? 4 : 16,
            backgroundColor: props.highlighted ? colors.highlight : mine ? colors.outgoing : colors.incoming,
            borderWidth: mentioned || props.highlighted ? 2 : 1,
            borderColor: failed ? colors.error : props.highlighted ? colors.accent : mentioned ? colors.mention : mine ? colors.outgoing : colors.secondary,
          }}
        >
          {!mine && firstOfGroup && action === null ? (
            <Text style={{ color: nickColour(message.from, colors), fontWeight: '700', marginBottom: 2 }}>{message.from}</Text>
          ) : null}
          {mentioned ? <ScreenReaderText>Mentions you.</ScreenReaderText> : null}
          {message.reply ?? message.replyTo ? <Quote message={message} mine={mine} onPress={props.onJumpToQuote} /> : null}
          {message.deleted ? (
            <Text testID="message-deleted" style={{ color: colors.muted, fontStyle: 'italic' }}>
              🚫 Message deleted
            </Text>
          ) : (
            <>
              {message.attachment || message.previewUri ? <Attachment message={message} loadImage={loadImage} onView={onViewImage} /> : null}
              {action !== null ? (
                <Text testID="action-text" style={{ color: colors.foreground, fontStyle: 'italic' }}>
                  {action}
                </Text>
              ) : message.content ? (
                <Text testID="message-text" style={{ color: colors.foreground, fontSize: 15, lineHeight: 21 }}>
                  {message.content}
                </Text>
              ) : null}
            </>
          )}
          {message.progress !== undefined && message.status === 'pending' ? (
            <View testID="upload-progress" style={{ marginTop: 4 }}>
              <View style={{ height: 4, backgroundColor: colors.secondary }}>
                <View style={{ height: 4, width: `${Math.round(message.progress * 100)}%`, backgroundColor: colors.action }} />
              </View>
              <Text testID="upload-progress-label" style={{ color: colors.muted, fontSize: 11 }}>
                {progressLabel(message.progress)}
              </Text>
            </View>
          ) : null}
          {lastOfGroup || mine || message.edited !== undefined ? (
            <View style={{ flexDirection: 'row', justifyContent: 'flex-end', alignItems: 'center', gap: 4, marginTop: 2 }}>
              {message.edited !== undefined && !message.deleted ? (
                <Text testID="message-edited" style={{ color: colors.muted, fontSize: 11 }}>
                  (edited)
                </Text>
              ) : null}
              {lastOfGroup ? (
                <Text testID="message-time" style={{ color: colors.muted, fontSize: 11 }}>
                  {timeLabel(message.timestamp)}
                </Text>
              ) : null}
              {mine ? <Tick message={message} onRetry={onRetry} /> : null}
            </View>
          ) : null}
        </Pressable>
        {showActionsButton ? (
          <Pressable
            role="button"
            aria-label={`Actions for ${mine ? 'your' : `${message.from}'s`} message`}
            testID="message-actions-button"
            onPress={props.onOpenActions}
            onHoverIn={() => setHovered(true)}
            onHoverOut={() => setHovered(false)}
            onFocus={() => setHovered(true)}
            onBlur={() => setHovered(false)}
            {...(Platform.OS === 'web' ? { title: 'Message actions' } : {})}
            style={{ width: 30, height: 30, borderRadius: 15, alignItems: 'center', justifyContent: 'center', backgroundColor: colors.surface, borderWidth: 1, borderColor: colors.border, opacity: hovered ? 1 : 0 }}
          >
            <Text aria-hidden style={{ color: colors.link, fontWeight: '700' }}>
              ⋯
            </Text>
          </Pressable>
        ) : null}
      </Animated.View>
      {reactions.length > 0 ? (
        <View role="group" aria-label="Reactions" testID="reactions" style={{ flexDirection: 'row', flexWrap: 'wrap', gap: 4, marginTop: 3, justifyContent: mine ? 'flex-end' : 'flex-start' }}>
          {reactions.map((reaction) => (
            <ReactionChip
              key={reaction.emoji}
              reaction={reaction}
              mine={props.me !== undefined && reactedBy(message, reaction.emoji, props.me)}
              onToggle={() => props.onToggleReaction?.(reaction.emoji)}
              onShowWho={() => props.onShowReactors?.(reaction)}
            />
          ))}
        </View>
      ) : null}
    </View>
  );
}

/** A reaction under a bubble: tap toggles mine; the names on hover (tooltip) or long-press. */
function ReactionChip({ reaction, mine, onToggle, onShowWho }: { reaction: Reaction; mine: boolean; onToggle: () => void; onShowWho: () => void }) {
  const { palette: colors } = useTheme();
  const label = reactionLabel(reaction, mine);
  return (
    <Pressable
      role="button"
      aria-label={label}
      {...pressedState(mine)}
      testID={`reaction-${reaction.emoji}`}
      onPress={onToggle}
      onLongPress={onShowWho}
      {...(Platform.OS === 'web' ? { title: (reaction.users ?? []).join(', ') || label } : {})}
      style={{
        flexDirection: 'row',
        alignItems: 'center',
        gap: 4,
        minHeight: 28,
        paddingHorizontal: 8,
        borderRadius: 14,
        borderWidth: 1,
        borderColor: mine ? colors.action : colors.border,
        backgroundColor: mine ? colors.outgoing : colors.surface,
      }}
    >
      <Text style={{ fontSize: 15 }}>{reaction.emoji}</Text>
      <Text style={{ color: mine ? colors.link : colors.foreground, fontSize: 13, fontWeight: mine ? '700' : '400' }}>{reaction.count}</Text>
    </Pressable>
  );
}

/** The quoted message above a reply: its author and first line; tapping jumps to it. */
function Quote({ message, mine, onPress }: { message: ChatMessage; mine: boolean; onPress?: (id: string) => void }) {
  const { palette: colors } = useTheme();
  const quote = message.reply;
  const id = quote?.id ?? message.replyTo ?? '';
  const deleted = quote?.deleted === true;
  const text = deleted ? 'Message deleted' : quote?.content || '…';
  const from = quote?.from ?? '';
  return (
    <Pressable
      role="button"
      testID="reply-quote"
      onPress={() => onPress?.(id)}
      style={{
        borderLeftWidth: 3,
        borderLeftColor: from ? nickColour(from, colors) : colors.border,
        backgroundColor: mine ? colors.incoming : colors.panel,
        borderRadius: 6,
        paddingHorizontal: 8,
        paddingVertical: 4,
        marginBottom: 4,
      }}
    >
      <ScreenReaderText>In reply to </ScreenReaderText>
      {/* The name in the text colour: the nick colours are tuned for a bubble, not this tint. */}
      {from ? <Text style={{ color: colors.foreground, fontWeight: '700', fontSize: 12 }}>{from}</Text> : null}
      <Text numberOfLines={2} style={{ color: colors.muted, fontSize: 13, fontStyle: deleted ? 'italic' : 'normal' }}>
        {text}
      </Text>
    </Pressable>
  );
}

/**
 * Swipe a bubble to the right to reply (phones): it follows the finger, springs back, and past
 * `SWIPE_REPLY` px says "reply". A vertical drag stays a scroll.
 */
function useSwipeToReply(enabled: boolean, onReply: (() => void) | undefined) {
  const offset = useRef(new Animated.Value(0)).current;
  const replyRef = useRef(onReply);
  replyRef.current = onReply;
  const responder = useMemo(
    () =>
      PanResponder.create({
        onMoveShouldSetPanResponder: (_event, gesture) => gesture.dx > 12 && Math.abs(gesture.dx) > Math.abs(gesture.dy) * 2,
        onPanResponderMove: (_event, gesture) => offset.setValue(Math.max(0, Math.min(gesture.dx, SWIPE_REPLY * 1.5))),
        onPanResponderRelease: (_event, gesture) => {
          if (gesture.dx >= SWIPE_REPLY) replyRef.current?.();
          Animated.spring(offset, { toValue: 0, useNativeDriver: false }).start();
        },
        onPanResponderTerminate: () => Animated.spring(offset, { toValue: 0, useNativeDriver: false }).start(),
      }),
    [offset],
  );
  return { offset, handlers: enabled ? responder.panHandlers : {} };
}

function Tick({ message, onRetry }: { message: ChatMessage; onRetry: () => void }) {
  const { palette: colors } = useTheme();
  const failed = message.status === 'failed';
  const tick = (
    <Text
      testID="message-status"
      aria-label={statusLabel(message)}
      style={{ color: failed ? colors.errorText : colors.muted, fontSize: failed ? 12 : 11, fontWeight: failed ? '700' : '400' }}
    >
      {statusTick(message)}
    </Text>
  );
  if (!failed) return tick;
  return (
    <Pressable testID="message-retry" onPress={onRetry} role="button" aria-label={`${statusLabel(message)}: ${message.error?.message ?? ''}`}>
      {tick}
    </Pressable>
  );
}

function SystemLine({ message }: { message: ChatMessage }) {
  const { palette: colors } = useTheme();
  return (
    <Text testID={`system-${message.key}`} style={{ color: colors.muted, fontSize: 12, textAlign: 'center', marginVertical: 6 }}>
      {systemLineText(message)} · {timeLabel(message.timestamp)}
    </Text>
  );
}

function Attachment({ message, loadImage, onView }: { message: ChatMessage; loadImage: (image: string) => Promise<string>; onView: (uri: string) => void }) {
  const { palette: colors } = useTheme();
  const [uri, setUri] = useState<string | null>(message.previewUri ?? null);
  const [failed, setFailed] = useState(false);
  const image = message.attachment?.image;
  useEffect(() => {
    if (!image || message.previewUri) return;
    let live = true;
    loadImage(image).then(
      (loaded) => {
        if (!live) return;
        setUri(loaded);
        setFailed(false);
      },
      () => live && setFailed(true), // tried again on the next render (the link may be back)
    );
    return () => {
      live = false;
    };
  }, [image, message.previewUri, loadImage]);
  const width = Math.min(message.attachment?.width ?? 220, 220);
  const height = message.attachment ? Math.round((width * message.attachment.height) / Math.max(1, message.attachment.width)) : 160;
  if (failed) return <Text style={{ color: colors.errorText }}>🖼 image unavailable</Text>;
  if (!uri) return <Text style={{ color: colors.muted }}>🖼 loading image…</Text>;
  return (
    <Pressable onPress={() => onView(uri)} role="button" aria-label={`Open image ${message.attachment?.name ?? ''}`.trim()}>
      <Image testID="message-image" source={{ uri }} style={{ width, height, borderRadius: 8 }} resizeMode="cover" alt={message.attachment?.name ?? 'image'} />
    </Pressable>
  );
}
