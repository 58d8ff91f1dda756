/** The conversation list with unread counts, and a box to join a channel or write to someone. */
import { useState } from 'react';
import { FlatList, Pressable, Text, View } from 'react-native';

import { LinkBanner } from '../components/LinkBanner';
import { previewText } from '../components/lineText';
import { Button, Field, Header, Notice, useStyles } from '../components/ui';
import type { Conversation, LinkStatus } from '../state/chat';
import { conversationTitle } from '../state/names';
import { useTheme } from '../theme/ThemeContext';
import { voice } from '../theme/voice';

export interface ConversationsScreenProps {
  readonly user: string;
  readonly link: LinkStatus;
  /** Why reconnecting stopped, if it did. */
  readonly linkProblem?: string | null;
  readonly conversations: readonly Conversation[];
  readonly onOpen: (conversation: Conversation) => void;
  /** `#channel` joins a channel; a user name opens a direct conversation. */
  readonly onStart: (target: string) => Promise<void>;
  /** Open the settings (devices, password, logout). */
  readonly onSettings?: () => void;
}

export function ConversationsScreen(props: ConversationsScreenProps) {
  const styles = useStyles();
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string | null>(null);

  const start = async () => {
    setError(null);
    try {
      await props.onStart(target.trim());
      setTarget('');
    } catch (caught) {
      setError(voice.failure(`opening ${target.trim()}`, caught));
    }
  };

  return (
    <View style={styles.screen}>
      <Header title={`Sensei ${props.user}`} subtitle={props.link === 'online' ? 'online' : props.link === 'connecting' ? 'reconnecting…' : 'offline'}
        right={props.onSettings ? <Button label="⚙" accessibilityLabel="Settings" kind="quiet" testID="open-settings" onPress={props.onSettings} /> : null}
      />
      <LinkBanner link={props.link} problem={props.linkProblem ?? null} />
      <View style={[styles.body, { flexDirection: 'row', alignItems: 'flex-end' }]}>
        <View style={{ flex: 1 }}>
          <Field label="Join #channel or message a user" testID="start-target" value={target} onChangeText={setTarget} onSubmitEditing={start} />
        </View>
        <Button label="Go" testID="start" onPress={start} disabled={!target.trim()} />
      </View>
      {error ? <Notice tone="error" text={error} testID="start-error" /> : null}
      <FlatList
        data={props.conversations}
        keyExtractor={(item) => item.key}
        ListEmptyComponent={<Notice text={voice.noConversations} />}
        renderItem={({ item }) => <ConversationRow conversation={item} onPress={() => props.onOpen(item)} />}
      />
    </View>
  );
}

function ConversationRow({ conversation, onPress }: { conversation: Conversation; onPress: () => void }) {
  const { palette: colors } = useTheme();
  const last = conversation.messages.at(-1);
  const title = conversationTitle(conversation);
  return (
    <Pressable
      accessibilityRole="button"
      testID={`conversation-${conversation.key}`}
      onPress={onPress}
      style={{ flexDirection: 'row', padding: 14, borderBottomWidth: 1, borderBottomColor: colors.panel, alignItems: 'center' }}
    >
      <View style={{ flex: 1 }}>
        <Text style={{ color: colors.foreground, fontWeight: '700' }}>{title}</Text>
        {last ? (
          <Text numberOfLines={1} style={{ color: colors.muted }}>
            {previewText(last)}
          </Text>
        ) : null}
      </View>
      {conversation.unread > 0 ? (
        <View testID={`unread-${conversation.key}`} style={{ backgroundColor: colors.accent, borderRadius: 12, paddingHorizontal: 8, paddingVertical: 2 }}>
          <Text style={{ color: '#ffffff', fontWeight: '700' }}>{conversation.unread}</Text>
        </View>
      ) : null}
    </Pressable>
  );
}
