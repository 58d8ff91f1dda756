/**
 * "kei is typing…" above the chat screen's composer (§14.13): the words for who is typing, and
 * the line that shows them, read politely by a screen reader.
 */
import { Text, View } from 'react-native';

import { useTheme } from '../theme/ThemeContext';
import { READABLE_WIDTH } from './ui';

/** "kei is typing…" above the composer (§14.13), read politely by a screen reader. */
export function typingText(typists: readonly string[]): string {
  if (typists.length === 0) return '';
  if (typists.length === 1) return `${typists[0]} is typing…`;
  if (typists.length === 2) return `${typists[0]} and ${typists[1]} are typing…`;
  return 'Several people are typing…';
}

export function TypingLine({ typists }: { typists: readonly string[] }) {
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
