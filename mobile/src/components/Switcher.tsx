/**
 * The conversation switcher (Ctrl-K on a desktop): type a few letters, Enter opens the first
 * match, arrows are not needed; Esc (or a click outside) closes it.
 */
import { useState } from 'react';
import { Modal, Pressable, Text, View } from 'react-native';

import type { Conversation } from '../state/chat';
import { useTheme } from '../theme/ThemeContext';
import { dialogName, Field, FORM_WIDTH } from './ui';

export function switcherMatches(conversations: readonly Conversation[], query: string): Conversation[] {
  const wanted = query.trim().toLowerCase().replace(/^[@]/, '');
  return conversations.filter((c) => c.dest.toLowerCase().includes(wanted));
}

export interface SwitcherProps {
  readonly visible: boolean;
  readonly conversations: readonly Conversation[];
  readonly onPick: (conversation: Conversation) => void;
  readonly onClose: () => void;
}

export function Switcher({ visible, conversations, onPick, onClose }: SwitcherProps) {
  const { palette: colors } = useTheme();
  const [query, setQuery] = useState('');
  const matches = switcherMatches(conversations, query);
  const close = () => {
    setQuery('');
    onClose();
  };
  const pick = (conversation: Conversation | undefined) => {
    if (!conversation) return;
    setQuery('');
    onPick(conversation);
  };
  return (
    <Modal visible={visible} transparent animationType="fade" onRequestClose={close} {...dialogName('Switch conversation')}>
      <Pressable aria-label="Close the switcher" onPress={close} style={{ flex: 1, backgroundColor: '#00000066', alignItems: 'center', paddingTop: 80 }}>
        <Pressable
          testID="switcher"
          onPress={() => undefined}
          style={{ width: '92%', maxWidth: FORM_WIDTH, backgroundColor: colors.surface, borderRadius: 12, padding: 12, gap: 8 }}
        >
          <Field
            label="Go to conversation"
            testID="switcher-query"
            value={query}
            onChangeText={setQuery}
            autoFocus
            onSubmitEditing={() => pick(matches[0])}
            placeholder="Type a name…"
          />
          <View role="list">
            {matches.slice(0, 8).map((conversation) => (
              <View role="listitem" key={conversation.key}>
                <Pressable role="button" testID={`switch-${conversation.key}`} onPress={() => pick(conversation)} style={{ paddingVertical: 8, paddingHorizontal: 6 }}>
                  <Text style={{ color: colors.foreground }}>{conversation.destType === 'channel' ? conversation.dest : `@${conversation.dest}`}</Text>
                </Pressable>
              </View>
            ))}
          </View>
        </Pressable>
      </Pressable>
    </Modal>
  );
}
