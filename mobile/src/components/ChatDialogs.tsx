/**
 * The chat screen's two overlays: who reacted with an emoji, and an image opened full screen.
 * Each shows while it has something to show, and closes on a tap or the back button.
 */
import { Image, Modal, Pressable, Text, View } from 'react-native';

import type { Reaction } from '../protocol/messages';
import { useTheme } from '../theme/ThemeContext';
import { dialogName } from './ui';

/** Who reacted with an emoji, in words (the node names at most ten). */
function reactorsText(reaction: Reaction): string {
  const names = reaction.users ?? [];
  const more = reaction.count - names.length;
  return names.length === 0 ? `${reaction.count} reacted` : `${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** Who reacted with the emoji of `reactors`, while it is set. */
export function ReactorsDialog({ reactors, onClose }: { reactors: Reaction | null; onClose: () => void }) {
  const { palette: colors } = useTheme();
  return (
    <Modal visible={reactors !== null} transparent animationType="fade" onRequestClose={onClose} {...dialogName('Who reacted')}>
      <Pressable aria-label="Close" onPress={onClose} style={{ flex: 1, backgroundColor: '#00000055', justifyContent: 'center', alignItems: 'center' }}>
        <View testID="reactors" style={{ backgroundColor: colors.surface, borderRadius: 12, padding: 16, maxWidth: 320, gap: 6 }}>
          <Text style={{ fontSize: 28, textAlign: 'center' }}>{reactors?.emoji}</Text>
          <Text style={{ color: colors.foreground }}>
            {reactors ? reactorsText(reactors) : ''}
          </Text>
        </View>
      </Pressable>
    </Modal>
  );
}

/** The image `viewing` (a URI) full screen, while it is set. */
export function ImageViewer({ viewing, onClose }: { viewing: string | null; onClose: () => void }) {
  return (
    <Modal visible={viewing !== null} transparent animationType="fade" onRequestClose={onClose} {...dialogName('Image')}>
      <Pressable
        testID="image-viewer"
        aria-label="Close the image"
        onPress={onClose}
        style={{ flex: 1, backgroundColor: '#000000dd', justifyContent: 'center' }}
      >
        {viewing ? <Image source={{ uri: viewing }} style={{ width: '100%', height: '80%' }} resizeMode="contain" alt="" /> : null}
      </Pressable>
    </Modal>
  );
}
