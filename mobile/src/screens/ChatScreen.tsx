/**
 * A conversation: history loads as the user scrolls to the top, messages show their sending
 * state, images can be picked, sent with progress, and opened full screen. A channel shows its
 * topic and members; `/me waves` sends an action.
 */
import { useCallback, useState } from 'react';
import { FlatList, Image, Modal, Pressable, Text, View } from 'react-native';

import { LinkBanner } from '../components/LinkBanner';
import { MessageBubble } from '../components/MessageBubble';
import { Button, Field, Header, Notice, useStyles } from '../components/ui';
import type { ChatMessage, Conversation, LinkStatus } from '../state/chat';
import { composeText } from '../state/compose';
import { conversationTitle, sameName } from '../state/names';
import type { ImagePick } from '../state/session';
import { useTheme } from '../theme/ThemeContext';
import { voice } from '../theme/voice';

export interface ChatScreenProps {
  readonly me: string;
  readonly link: LinkStatus;
  /** Why reconnecting stopped, if it did. */
  readonly linkProblem?: string | null;
  readonly conversation: Conversation;
  readonly onBack: () => void;
  readonly onSend: (content: string) => Promise<void>;
  readonly onSendImage: (image: ImagePick) => Promise<void>;
  readonly onRetry: (localKey: string) => void;
  readonly onLoadOlder: () => Promise<void>;
  readonly loadImage: (image: string) => Promise<string>;
  readonly pickImage: () => Promise<ImagePick | null>;
}

export function ChatScreen(props: ChatScreenProps) {
  const { conversation } = props;
  const styles = useStyles();
  const { palette: colors } = useTheme();
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const title = conversationTitle(conversation);

  const report = (action: string) => (caught: unknown) => setError(voice.failure(action, caught));

  const send = () => {
    const composed = composeText(draft);
    if (!composed) return;
    if ('problem' in composed) {
      setError(voice.composeProblem(composed.problem)); // the draft stays, to be finished
      return;
    }
    setDraft('');
    setError(null);
    props.onSend(composed.content).catch(report('sending'));
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

  const loadOlder = useCallback(() => {
    if (loadingOlder || conversation.reachedStart) return;
    setLoadingOlder(true);
    props
      .onLoadOlder()
      .catch(report('loading history'))
      .finally(() => setLoadingOlder(false));
  }, [loadingOlder, conversation.reachedStart, props]);

  return (
    <View style={styles.screen}>
      <Header
        title={title}
        subtitle={`Sensei ${props.me}`}
        right={<Button label="Back" kind="quiet" testID="back" onPress={props.onBack} />}
      />
      <LinkBanner link={props.link} problem={props.linkProblem ?? null} />
      <ChannelInfo conversation={conversation} />
      <FlatList<ChatMessage>
        testID="messages"
        data={conversation.messages}
        keyExtractor={(item) => item.key}
        onStartReached={loadOlder}
        onStartReachedThreshold={0.2}
        ListHeaderComponent={
          conversation.reachedStart ? <Text style={{ color: colors.muted, textAlign: 'center', padding: 8 }}>{voice.beginning(title)}</Text> : null
        }
        renderItem={({ item: message }) => {
          return (
            <MessageBubble
              message={message}
              mine={sameName(message.from, props.me)}
              loadImage={props.loadImage}
              onRetry={() => props.onRetry(message.key)}
              onViewImage={setViewing}
            />
          );
        }}
      />
      {error ? <Notice tone="error" text={error} testID="chat-error" /> : null}
      <View style={{ flexDirection: 'row', alignItems: 'flex-end', gap: 8, padding: 8, backgroundColor: colors.panel }}>
        <Button label="Photo" kind="quiet" testID="attach" onPress={attach} />
        <View style={{ flex: 1 }}>
          <Field label="Message" testID="composer" value={draft} onChangeText={setDraft} onSubmitEditing={send} placeholder="Say hello to Arona…" />
        </View>
        <Button label="Send" testID="send" onPress={send} disabled={!draft.trim()} />
      </View>
      <Modal visible={viewing !== null} transparent animationType="fade" onRequestClose={() => setViewing(null)}>
        <Pressable testID="image-viewer" onPress={() => setViewing(null)} style={{ flex: 1, backgroundColor: '#000000dd', justifyContent: 'center' }}>
          {viewing ? <Image source={{ uri: viewing }} style={{ width: '100%', height: '80%' }} resizeMode="contain" /> : null}
        </Pressable>
      </Modal>
    </View>
  );
}

/** A channel's topic and who is in it, as the node last told us (JOIN's OK, then events). */
function ChannelInfo({ conversation }: { conversation: Conversation }) {
  const { palette: colors } = useTheme();
  if (conversation.destType !== 'channel' || (!conversation.topic && !conversation.members)) return null;
  const members = conversation.members ?? [];
  return (
    <View style={{ paddingHorizontal: 12, paddingVertical: 6, backgroundColor: colors.surface }}>
      {conversation.topic ? (
        <Text testID="channel-topic" style={{ color: colors.foreground }}>
          {conversation.topic}
        </Text>
      ) : null}
      {conversation.members ? (
        <Text testID="channel-members" numberOfLines={2} style={{ color: colors.muted, fontSize: 12 }}>
          {members.length === 1 ? '1 member' : `${members.length} members`}: {members.join(', ')}
        </Text>
      ) : null}
    </View>
  );
}
