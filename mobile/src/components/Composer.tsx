/**
 * The chat screen's composer: the input that grows with the text, attach and send, Enter to
 * send on the web, and what is being answered or edited above it. It owns the draft; the screen
 * decides what a sent text does (send, reply, save an edit).
 */
import { useEffect, useRef, useState } from 'react';
import { type NativeSyntheticEvent, Platform, Text, TextInput, View } from 'react-native';

import type { ChatMessage } from '../state/chat';
import { composeText } from '../state/compose';
import { useTheme } from '../theme/ThemeContext';
import { voice } from '../theme/voice';
import { IconButton, READABLE_WIDTH, useStyles } from './ui';

const COMPOSER_MIN = 40;
const COMPOSER_MAX = 140;

interface ComposerProps {
  readonly onSend: (content: string) => void;
  readonly onAttach: () => void;
  readonly onProblem: (problem: string) => void;
  readonly onDraftChanged?: (draft: string) => void;
  /** The message being answered, shown above the input. */
  readonly replyTo: ChatMessage | null;
  /** My message being edited: its text fills the input; sending saves the edit. */
  readonly editing: ChatMessage | null;
  /** Stop replying or editing (the ✕, or Esc). */
  readonly onCancel: () => void;
  /** Up in an empty input (desktop): edit my last message; true when there was one. */
  readonly onEditLast?: () => boolean;
}

/**
 * The composer: a multi-line input without a label above it (its accessible name says what it
 * is) that grows with the text, an attach and a send icon. On the web Enter sends and
 * Shift+Enter starts a new line; on a phone the return key adds a line and the button sends.
 * Above it, what is being answered or edited, with a ✕ (Esc does the same).
 */
export function Composer({ onSend, onAttach, onProblem, onDraftChanged, replyTo, editing, onCancel, onEditLast }: ComposerProps) {
  const styles = useStyles();
  const { palette: colors } = useTheme();
  const [draft, setDraft] = useState('');
  const [height, setHeight] = useState(COMPOSER_MIN);
  const input = useRef<TextInput>(null);
  const kept = useRef('');

  // Editing fills the input with the message (what was typed before comes back after);
  // replying keeps the draft. Either way the input takes the focus.
  const editingKey = editing?.key;
  useEffect(() => {
    if (editing) {
      kept.current = draft;
      setDraft(editing.content);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when another message is picked
  }, [editingKey]);
  useEffect(() => {
    if (editing || replyTo) input.current?.focus();
  }, [editing, replyTo]);

  const change = (text: string) => {
    setDraft(text);
    if (!editing) onDraftChanged?.(text);
  };

  const cancel = () => {
    if (editing) setDraft(kept.current);
    onCancel();
  };

  const send = () => {
    const composed = composeText(draft);
    if (!composed) return;
    if ('problem' in composed) {
      onProblem(voice.composeProblem(composed.problem)); // the draft stays, to be finished
      return;
    }
    setDraft(editing ? kept.current : '');
    setHeight(COMPOSER_MIN);
    onSend(composed.content);
  };

  const onKeyPress = (event: NativeSyntheticEvent<{ key: string }>) => {
    if (Platform.OS !== 'web') return;
    const key = event.nativeEvent as unknown as { key: string; shiftKey?: boolean; isComposing?: boolean };
    if (key.isComposing) return;
    if (key.key === 'Escape' && (editing || replyTo)) {
      event.preventDefault();
      cancel();
      return;
    }
    if (key.key === 'ArrowUp' && draft === '' && !editing && onEditLast?.()) {
      event.preventDefault();
      return;
    }
    if (key.key !== 'Enter' || key.shiftKey) return;
    event.preventDefault();
    send();
  };

  const context = editing ? { title: 'Editing your message', text: editing.content } : replyTo ? { title: `Replying to ${replyTo.from}`, text: replyTo.content || 'an image' } : null;

  return (
    <View style={{ backgroundColor: colors.panel, borderTopColor: colors.secondary, borderTopWidth: 1 }}>
      {context ? (
        <View testID={editing ? 'composer-editing' : 'composer-reply'} style={{ flexDirection: 'row', alignItems: 'center', gap: 8, paddingHorizontal: 12, paddingTop: 8, width: '100%', maxWidth: READABLE_WIDTH, alignSelf: 'center' }}>
          <View style={{ flex: 1, minWidth: 0, borderLeftWidth: 3, borderLeftColor: colors.action, paddingLeft: 8 }}>
            <Text style={{ color: colors.link, fontWeight: '700', fontSize: 13 }}>{context.title}</Text>
            <Text numberOfLines={1} style={{ color: colors.muted, fontSize: 13 }}>
              {context.text}
            </Text>
          </View>
          <IconButton icon="✕" label={editing ? 'Cancel the edit' : 'Cancel the reply'} testID="composer-cancel" onPress={cancel} />
        </View>
      ) : null}
      <View style={{ flexDirection: 'row', alignItems: 'flex-end', gap: 6, padding: 8, width: '100%', maxWidth: READABLE_WIDTH, alignSelf: 'center' }}>
        {editing ? null : <IconButton icon="+" large label="Attach a photo" testID="attach" onPress={onAttach} />}
        <TextInput
          ref={input}
          testID="composer"
          aria-label={editing ? 'Edit message' : replyTo ? `Reply to ${replyTo.from}` : 'Message'}
          placeholder={editing ? 'Edit your message…' : 'Say hello to Arona…'}
          placeholderTextColor={colors.muted}
          value={draft}
          onChangeText={change}
          multiline
          onKeyPress={onKeyPress}
          onContentSizeChange={(event) => setHeight(Math.min(COMPOSER_MAX, Math.max(COMPOSER_MIN, Math.ceil(event.nativeEvent.contentSize.height))))}
          style={[styles.input, { flex: 1, height, borderRadius: 20, paddingTop: 9, paddingBottom: 9 }]}
        />
        <IconButton icon={editing ? '✓' : '➤'} label={editing ? 'Save the edit' : 'Send'} testID="send" filled onPress={send} disabled={!draft.trim()} />
      </View>
    </View>
  );
}
