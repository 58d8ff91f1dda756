/**
 * The line under a channel's header: its topic and members with their roles' marks, and the
 * button to the member sheet (components/MemberSheet).
 */
import { useMemo } from 'react';
import { Text, View } from 'react-native';

import { compareByRole, roleMark } from '../protocol/moderation';
import type { Conversation } from '../state/chat';
import { useTheme } from '../theme/ThemeContext';
import { SmallButton } from './ui';

/** Names in the channel's one-line member summary (the member sheet lists everyone). */
const NAMES_IN_LINE = 40;

/**
 * A channel's topic and who is in it, as the node last told us (JOIN's OK, then events), each
 * name with its role's mark (~ owner, @ operator, + voiced), strongest first; `onMembers`
 * opens the member sheet.
 */
export function ChannelInfo({ conversation, onMembers }: { conversation: Conversation; onMembers?: () => void }) {
  const { palette: colors } = useTheme();
  const { members: all, roles } = conversation;
  // One line: the strongest names first, not a thousand-name string on every render.
  const shown = useMemo(() => {
    const held = roles ?? {};
    return [...(all ?? [])]
      .sort((a, b) => compareByRole(held, a, b))
      .slice(0, NAMES_IN_LINE)
      .map((name) => `${roleMark(held[name.toLowerCase()])}${name}`);
  }, [all, roles]);
  if (conversation.destType !== 'channel' || !all) return null;
  const members = all.length > shown.length ? [...shown, '…'] : shown;
  return (
    <View style={{ paddingHorizontal: 12, paddingVertical: 4, backgroundColor: colors.surface, borderBottomColor: colors.panel, borderBottomWidth: 1 }}>
      {conversation.topic ? (
        <Text testID="channel-topic" style={{ color: colors.foreground }} numberOfLines={1}>
          {conversation.topic}
        </Text>
      ) : null}
      <View style={{ flexDirection: 'row', alignItems: 'center', gap: 8 }}>
        <Text testID="channel-members" numberOfLines={1} style={{ color: colors.muted, fontSize: 12, flex: 1 }}>
          {all.length === 1 ? '1 member' : `${all.length} members`}: {members.join(', ')}
        </Text>
        {onMembers ? <SmallButton label="Members" accessibilityLabel="Members and channel settings" testID="open-members" onPress={onMembers} /> : null}
      </View>
    </View>
  );
}
