/** One message: sender, text or image, and for my own messages the pending/sent/failed state. */
import { useEffect, useState } from 'react';
import { Image, Pressable, Text, View } from 'react-native';

import type { ChatMessage } from '../state/chat';
import { ARONA_LIGHT as colors, nickColour } from '../theme/theme';

export interface MessageBubbleProps {
  readonly message: ChatMessage;
  readonly mine: boolean;
  readonly loadImage: (image: string) => Promise<string>;
  readonly onRetry: () => void;
  readonly onViewImage: (uri: string) => void;
}

const STATUS_LABEL = { pending: 'sending…', sent: 'sent', failed: 'failed, tap to retry' } as const;

export function MessageBubble({ message, mine, loadImage, onRetry, onViewImage }: MessageBubbleProps) {
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
      {!mine ? <Text style={{ color: nickColour(message.from, colors), fontWeight: '700' }}>{message.from}</Text> : null}
      {message.attachment || message.previewUri ? (
        <Attachment message={message} loadImage={loadImage} onView={onViewImage} />
      ) : null}
      {message.content ? <Text style={{ color: colors.foreground }}>{message.content}</Text> : null}
      {message.progress !== undefined && message.status === 'pending' ? (
        <View testID="upload-progress" style={{ height: 4, backgroundColor: colors.panel, marginTop: 4 }}>
          <View style={{ height: 4, width: `${Math.round(message.progress * 100)}%`, backgroundColor: colors.primary }} />
        </View>
      ) : null}
      {mine ? (
        <Pressable disabled={message.status !== 'failed'} onPress={onRetry} accessibilityRole="button">
          <Text testID="message-status" style={{ color: message.status === 'failed' ? colors.error : colors.muted, fontSize: 11, textAlign: 'right' }}>
            {STATUS_LABEL[message.status]}
          </Text>
        </Pressable>
      ) : null}
    </View>
  );
}

function Attachment({ message, loadImage, onView }: { message: ChatMessage; loadImage: (image: string) => Promise<string>; onView: (uri: string) => void }) {
  const [uri, setUri] = useState<string | null>(message.previewUri ?? null);
  const [failed, setFailed] = useState(false);
  const image = message.attachment?.image;
  useEffect(() => {
    if (!image || message.previewUri) return;
    let live = true;
    loadImage(image).then(
      (loaded) => live && setUri(loaded),
      () => live && setFailed(true),
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
