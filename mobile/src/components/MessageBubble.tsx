/**
 * One message: sender (first of a group only), text or image, the time, and for my own
 * messages a small delivery tick (pending ◷, sent ✓, failed ⚠ with a retry button naming the
 * node's error code). An image being sent shows how much of it the node has acknowledged
 * holding. A `/me` action reads `* kei waves`; a join, part or topic change is a quiet centred
 * line rather than a bubble.
 */
import { useEffect, useState } from 'react';
import { Image, Pressable, Text, View } from 'react-native';

import type { ChatMessage } from '../state/chat';
import { useTheme } from '../theme/ThemeContext';
import { nickColour } from '../theme/theme';
import { actionLineText, systemLineText } from './lineText';
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

export function MessageBubble({ message, mine, firstOfGroup = true, lastOfGroup = true, loadImage, onRetry, onViewImage }: MessageBubbleProps) {
  const { palette: colors } = useTheme();
  if (message.system) return <SystemLine message={message} />;
  const action = actionLineText(message);
  const failed = message.status === 'failed';
  return (
    <View
      testID={`message-${message.key}`}
      style={{
        alignSelf: mine ? 'flex-end' : 'flex-start',
        maxWidth: '82%',
        marginHorizontal: 10,
        marginTop: firstOfGroup ? 10 : 2,
        paddingHorizontal: 12,
        paddingVertical: 7,
        borderRadius: 16,
        borderTopLeftRadius: !mine && firstOfGroup ? 4 : 16,
        borderTopRightRadius: mine && firstOfGroup ? 4 : 16,
        backgroundColor: mine ? colors.outgoing : colors.incoming,
        borderWidth: 1,
        borderColor: failed ? colors.error : mine ? colors.outgoing : colors.secondary,
      }}
    >
      {!mine && firstOfGroup && action === null ? (
        <Text style={{ color: nickColour(message.from, colors), fontWeight: '700', marginBottom: 2 }}>{message.from}</Text>
      ) : null}
      {message.attachment || message.previewUri ? <Attachment message={message} loadImage={loadImage} onView={onViewImage} /> : null}
      {action !== null ? (
        <Text testID="action-text" style={{ color: colors.foreground, fontStyle: 'italic' }}>
          {action}
        </Text>
      ) : message.content ? (
        <Text style={{ color: colors.foreground, fontSize: 15, lineHeight: 21 }}>{message.content}</Text>
      ) : null}
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
      {lastOfGroup || mine ? (
        <View style={{ flexDirection: 'row', justifyContent: 'flex-end', alignItems: 'center', gap: 4, marginTop: 2 }}>
          {lastOfGroup ? (
            <Text testID="message-time" style={{ color: colors.muted, fontSize: 11 }}>
              {timeLabel(message.timestamp)}
            </Text>
          ) : null}
          {mine ? <Tick message={message} onRetry={onRetry} /> : null}
        </View>
      ) : null}
    </View>
  );
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
