/**
 * The conversation list with times and unread counts, a box to join a channel or write to
 * someone, and the account's actions (log out, notifications). On a wide screen it is the left
 * pane, with the open conversation highlighted.
 */
import { type ReactNode, useState } from 'react';
import { Pressable, ScrollView, Text, View } from 'react-native';

import { LinkBanner } from '../components/LinkBanner';
import { previewText } from '../components/lineText';
import { timeLabel } from '../components/timeline';
import { Button, Field, Header, IconButton, Notice, ScreenReaderText, SmallButton, useStyles } from '../components/ui';
import type { Conversation, LinkStatus } from '../state/chat';
import { conversationTitle } from '../state/names';
import { useTheme } from '../theme/ThemeContext';
import { voice } from '../theme/voice';

export interface ConversationsScreenProps {
  readonly user: string;
  readonly link: LinkStatus;
  /** Why reconnecting stopped, if it did. */
  readonly linkProblem?: string | null;
  /** Failover: the community node the session moved to, told until the link changes. */
  readonly movedTo?: string;
  readonly conversations: readonly Conversation[];
  /** The conversation open beside the list (two panes), highlighted. */
  readonly activeKey?: string | null;
  readonly onOpen: (conversation: Conversation) => void;
  /** `#channel` joins a channel; a user name opens a direct conversation. */
  readonly onStart: (target: string) => Promise<void>;
  readonly onLogout?: () => void;
  /** Open the settings (devices, password, logout). */
  readonly onSettings?: () => void;
  readonly onRetryLink?: () => void;
  /** Show the link banner here (not when the chat beside the list shows it already). */
  readonly showLink?: boolean;
  /** Show the theme toggle here (not when the chat header beside the list has one). */
  readonly showThemeToggle?: boolean;
  /** More header buttons (turning notifications on). */
  readonly actions?: ReactNode;
  /** Open the message search (§14.15). */
  readonly onSearch?: () => void;
}

function linkWord(link: LinkStatus): string {
  return link === 'online' ? 'online' : link === 'connecting' ? 'reconnecting…' : 'offline';
}

export function ConversationsScreen(props: ConversationsScreenProps) {
  const styles = useStyles();
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const start = async () => {
    const wanted = target.trim();
    if (!wanted || busy) return;
    setError(null);
    setBusy(true);
    try {
      await props.onStart(wanted);
      setTarget('');
    } catch (caught) {
      setError(voice.failure(`opening ${wanted}`, caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <View style={styles.screen}>
      <Header
        title="Conversations"
        subtitle={`${props.user} · ${linkWord(props.link)}`}
        themeToggle={props.showThemeToggle !== false}
        actions={
          <>
            {props.actions}
            {props.onSettings ? <IconButton icon="⚙" label="Settings" testID="open-settings" onPress={props.onSettings} /> : null}
            {props.onLogout ? <SmallButton label="Log out" testID="logout" onPress={props.onLogout} /> : null}
          </>
        }
      />
      {props.showLink === false ? null : <LinkBanner link={props.link} problem={props.linkProblem ?? null} onRetry={props.onRetryLink} movedTo={props.movedTo} />}
      {props.onSearch ? <SearchBar onPress={props.onSearch} /> : null}
      <View style={[styles.body, { flexDirection: 'row', alignItems: 'flex-end', maxWidth: undefined }]}>
        <View style={{ flex: 1 }}>
          <Field
            label="Join #channel or message a user"
            testID="start-target"
            value={target}
            onChangeText={setTarget}
            onSubmitEditing={() => void start()}
            returnKeyType="go"
            placeholder="#channel or name"
          />
        </View>
        <Button label="Go" testID="start" onPress={start} disabled={busy || !target.trim()} />
      </View>
      {error ? (
        <View style={{ paddingHorizontal: 16, paddingBottom: 8 }}>
          <Notice tone="error" text={error} testID="start-error" />
        </View>
      ) : null}
      <ScrollView style={{ flex: 1 }}>
        {props.conversations.length === 0 ? (
          <View style={{ padding: 16 }}>
            <Notice text={voice.noConversations} />
          </View>
        ) : (
          <View role="list" aria-label="Conversations">
            {props.conversations.map((item) => (
              <ConversationRow key={item.key} conversation={item} active={item.key === props.activeKey} onPress={() => props.onOpen(item)} />
            ))}
          </View>
        )}
      </ScrollView>
    </View>
  );
}

/** What opens the message search: looks like a search field, is a button (Ctrl+Shift+F too). */
function SearchBar({ onPress }: { onPress: () => void }) {
  const { palette: colors } = useTheme();
  return (
    <View style={{ paddingHorizontal: 16, paddingTop: 12 }}>
      <Pressable
        role="button"
        testID="open-search"
        aria-label="Search messages"
        onPress={onPress}
        style={{ flexDirection: 'row', alignItems: 'center', gap: 8, borderWidth: 1, borderColor: colors.border, borderRadius: 18, paddingHorizontal: 12, paddingVertical: 8, backgroundColor: colors.surface }}
      >
        <Text aria-hidden style={{ fontSize: 14 }}>
          🔍
        </Text>
        <Text style={{ color: colors.muted }}>Search messages</Text>
      </Pressable>
    </View>
  );
}

function ConversationRow({ conversation, active, onPress }: { conversation: Conversation; active: boolean; onPress: () => void }) {
  const { palette: colors } = useTheme();
  const last = conversation.messages.at(-1);
  const title = conversationTitle(conversation);
  return (
    <View role="listitem">
      <Pressable
        role="button"
        aria-current={active ? 'page' : undefined}
        testID={`conversation-${conversation.key}`}
        onPress={onPress}
        style={{
          flexDirection: 'row',
          gap: 8,
          paddingHorizontal: 16,
          paddingVertical: 12,
          borderBottomWidth: 1,
          borderBottomColor: colors.panel,
          alignItems: 'center',
          backgroundColor: active ? colors.panel : 'transparent',
          borderLeftWidth: 4,
          borderLeftColor: active ? colors.action : 'transparent',
        }}
      >
        <View style={{ flex: 1, minWidth: 0 }}>
          <Text style={{ color: colors.foreground, fontWeight: '700' }} numberOfLines={1}>
            {title}
          </Text>
          {last ? (
            <Text numberOfLines={1} style={{ color: colors.muted }}>
              {previewText(last)}
            </Text>
          ) : null}
        </View>
        <View style={{ alignItems: 'flex-end', gap: 4 }}>
          {last ? <Text style={{ color: colors.muted, fontSize: 12 }}>{timeLabel(last.timestamp)}</Text> : null}
          <View style={{ flexDirection: 'row', gap: 4 }}>
            {conversation.mentions > 0 ? <MentionBadge testID={`mentions-${conversation.key}`} count={conversation.mentions} /> : null}
            {conversation.unread > 0 ? <UnreadBadge testID={`unread-${conversation.key}`} count={conversation.unread} /> : null}
          </View>
        </View>
      </Pressable>
    </View>
  );
}

const BADGE = { borderRadius: 12, minWidth: 22, paddingHorizontal: 7, paddingVertical: 1, alignItems: 'center' } as const;

/** The number of unread messages; a screen reader hears "3 unread", not a bare "3". */
export function UnreadBadge({ count, testID }: { count: number; testID?: string }) {
  const { palette: colors } = useTheme();
  return (
    <View testID={testID} style={[BADGE, { backgroundColor: colors.badge }]}>
      <Text style={{ color: colors.onBadge, fontWeight: '700', fontSize: 13 }}>
        {count}
        <ScreenReaderText> unread</ScreenReaderText>
      </Text>
    </View>
  );
}

/**
 * How many unread messages mention the user (§14.5), shown "@2" in its own colour; a screen
 * reader hears "2 mentions" (the "@" is hidden from it).
 */
export function MentionBadge({ count, testID }: { count: number; testID?: string }) {
  const { palette: colors } = useTheme();
  return (
    <View testID={testID} style={[BADGE, { backgroundColor: colors.mention }]}>
      <Text style={{ color: colors.onMention, fontWeight: '700', fontSize: 13 }}>
        <Text aria-hidden>@</Text>
        {count}
        <ScreenReaderText>{count === 1 ? ' mention' : ' mentions'}</ScreenReaderText>
      </Text>
    </View>
  );
}
