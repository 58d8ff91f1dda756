/**
 * One row of the chat screen's message list: a day separator, the "unread" line, or a message
 * bubble wired to what the screen lets it do (the actions menu, a swipe to reply, a quote to
 * jump to, reactions). `MessageHandlers` is that wiring, made once per render by the screen.
 */
import { type LayoutChangeEvent, Text, View } from 'react-native';

import type { Reaction } from '../protocol/messages';
import type { ChatScreenProps } from '../screens/ChatScreen';
import type { ChatMessage } from '../state/chat';
import { sameName } from '../state/names';
import { useTheme } from '../theme/ThemeContext';
import { MessageBubble } from './MessageBubble';
import type { TimelineRow } from './timeline';

/** What a bubble can do, from the chat screen. */
export interface MessageHandlers {
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
  readonly props: Pick<ChatScreenProps, 'me' | 'loadImage' | 'onRetry'>;
  readonly handlers: MessageHandlers;
  readonly onViewImage: (uri: string) => void;
  readonly onUnreadLayout: (event: LayoutChangeEvent) => void;
}

export function TimelineItem({ row, props, handlers, onViewImage, onUnreadLayout }: TimelineItemProps) {
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
