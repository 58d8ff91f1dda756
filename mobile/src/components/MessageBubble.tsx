/**
 * One message: sender, text or image, and for my own messages the pending/sent/failed state.
 * A failed message names the node's error code and is retried by a tap; an image being sent
 * shows how much of it the node has acknowledged holding. A `/me` action reads `* kei waves`;
 * a join, part or topic change is a quiet centred line rather than a bubble.
 */
import { useEffect, useState } from 'react';
import { Image, Pressable, Text, View } from 'react-native';

import type { ChatMessage } from '../state/chat';
import { useTheme } from '../theme/ThemeContext';
import { nickColour } from '../theme/theme';
import { actionLineText, systemLineText } from './lineText';

export interface MessageBubbleProps {
  readonly message: ChatMessage;
  readonly mine: boolean;
  readonly loadImage: (image: string) => Promise<string>;
  readonly onRetry: () => void;
  readonly onViewImage: (uri: string) => void;
}

/** The status line of my message; a failure carries its code (RATE_LIMITED, NO_SUCH_USER…). */
export function statusLabel(message: ChatMessage): string {
  if (message.status === 'pending') return 'sending…';
  if (message.status === 'sent') return 'sent';
  return message.error ? `failed: ${message.error.code}, tap to retry` : 'failed, tap to retry';
}

/** Upload progress in words: it counts bytes the node acknowledged, and says so. */
export function progressLabel(progress: number): string {
  return `${Math.round(progress * 100)}% received by the node`;
}

export function MessageBubble({ message, mine, loadImage, onRetry, onViewImage }: MessageBubbleProps) {
  const { palette: colors } = useTheme();
  if (message.system) return <SystemLine message={message} />;
  const action = actionLineText(message);
  return (
    <View
      testID={`message-${message.key}`}
      style={{
        alignSelf: mine ? 'flex-end' : 'flex-start',
        maxWidth: '85%',
        margin: 6,
        padding: 10,
        borderRadius: 14,
        backgroundColor: mine ? colors.panel : colors.surface,
        borderWidth: 1,
        borderColor: message.status === 'failed' ? colors.error : colors.panel,
      }}
    >
      {!mine && action === null ? <Text style={{ color: nickColour(message.from, colors), fontWeight: '700' }}>{message.from}</Text> : null}
      {message.attachment || message.previewUri ? (
        <Attachment message={message} loadImage={loadImage} onView={onViewImage} />
      ) : null}
      {action !== null ? (
        <Text testID="action-text" style={{ color: colors.foreground, fontStyle: 'italic' }}>
          {action}
        </Text>
      ) : message.content ? (
        <Text style={{ color: colors.foreground }}>{message.content}</Text>
      ) : null}
      {message.progress !== undefined && message.status === 'pending' ? (
        <View testID="upload-progress" style={{ marginTop: 4 }}>
          <View style={{ height: 4, backgroundColor: colors.secondary }}>
            <View style={{ height: 4, width: `${Math.round(message.progress * 100)}%`, backgroundColor: colors.primary }} />
          </View>
          <Text testID="upload-progress-label" style={{ color: colors.muted, fontSize: 11 }}>
            {progressLabel(message.progress)}
          </Text>
        </View>
      ) : null}
      {mine ? (
        <Pressable
          disabled={message.status !== 'failed'}
          onPress={onRetry}
          accessibilityRole="button"
          accessibilityHint={message.error?.message}
        >
          <Text testID="message-status" style={{ color: message.status === 'failed' ? colors.error : colors.muted, fontSize: 11, textAlign: 'right' }}>
            {statusLabel(message)}
          </Text>
        </Pressable>
      ) : null}
    </View>
  );
}

function SystemLine({ message }: { message: ChatMessage }) {
  const { palette: colors } = useTheme();
  return (
    <Text testID={`system-${message.key}`} style={{ color: colors.muted, fontSize: 12, textAlign: 'center', marginVertical: 4 }}>
      {systemLineText(message)}
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
  if (failed) return <Text style={{ color: colors.error }}>🖼 image unavailable</Text>;
  if (!uri) return <Text style={{ color: colors.muted }}>🖼 loading image…</Text>;
  return (
    <Pressable onPress={() => onView(uri)} accessibilityRole="imagebutton" accessibilityLabel={message.attachment?.name ?? 'image'}>
      <Image testID="message-image" source={{ uri }} style={{ width, height, borderRadius: 8 }} resizeMode="cover" />
    </Pressable>
  );
}
