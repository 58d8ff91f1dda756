/**
 * What can be done with one message (long-press on a phone, the ⋯ button on hover on a
 * desktop): react (six quick emoji, more in a small picker), reply, copy, and for my own
 * messages edit and delete (delete asks first: it is for everyone). A dialog, so Esc and a tap
 * outside close it and a screen reader knows where it is.
 */
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { Modal, Pressable, Text, useWindowDimensions, View } from 'react-native';

import type { ChatMessage } from '../state/chat';
import { useTheme } from '../theme/ThemeContext';
import { Button, dialogName, FORM_WIDTH, pressedState } from './ui';

/** The quick reactions, first row of the menu. */
/** From this width the menu is a card in the middle, not a sheet from the bottom. */
const WIDE = 700;

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🎉'] as const;

/** The small picker: common emoji, each one a valid reaction (protocol/emoji). */
export const MORE_REACTIONS = [
  '😀', '😊', '😍', '🤔', '😅', '😭', '😡', '🥳', '😎', '🙏', '👏', '🙌',
  '👀', '💯', '🔥', '✨', '⭐', '✅', '❌', '👎', '💙', '🌸', '☕', '🍰',
] as const;

export interface MessageActionsProps {
  readonly message: ChatMessage | null;
  readonly mine: boolean;
  /** Emoji I already put on it: their buttons say so (pressed). */
  readonly myReactions: readonly string[];
  readonly onReact: (emoji: string) => void;
  readonly onReply: () => void;
  readonly onEdit: () => void;
  readonly onDelete: () => void;
  readonly onCopy: () => void;
  readonly onClose: () => void;
  /**
   * Opened by a long-press: the finger is still down on the screen, and lifting it makes the
   * browser send a click to whatever is under it now, one of this menu's buttons. Until that
   * finger is up (and its click gone) the buttons do nothing.
   */
  readonly openedByTouch?: boolean;
}

/** How long after the finger is lifted its click may still arrive. */
const GHOST_CLICK_MS = 350;

/**
 * False until the touch that opened the menu ended and its click was swallowed (or did not come
 * within `GHOST_CLICK_MS`); true at once when the menu was not opened by a touch.
 */
function useArmed(open: boolean, byTouch: boolean): () => boolean {
  const armed = useRef(true);
  useEffect(() => {
    const document = (globalThis as { document?: Document }).document;
    if (!open || !byTouch || !document) {
      armed.current = true;
      return undefined;
    }
    armed.current = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const arm = () => {
      armed.current = true;
      document.removeEventListener('click', swallow, true);
    };
    const swallow = (event: Event) => {
      event.stopPropagation();
      event.preventDefault();
      arm();
    };
    const lifted = () => {
      document.addEventListener('click', swallow, { capture: true, once: true });
      timer = setTimeout(arm, GHOST_CLICK_MS);
    };
    document.addEventListener('touchend', lifted, { capture: true, once: true });
    document.addEventListener('mouseup', lifted, { capture: true, once: true });
    return () => {
      document.removeEventListener('touchend', lifted, true);
      document.removeEventListener('mouseup', lifted, true);
      document.removeEventListener('click', swallow, true);
      if (timer) clearTimeout(timer);
    };
  }, [open, byTouch]);
  return () => armed.current;
}

export function MessageActions(props: MessageActionsProps) {
  const { palette: colors } = useTheme();
  const { width } = useWindowDimensions();
  /** A sheet from the bottom on a phone; a card in the middle on a wide screen. */
  const sheet = width < WIDE;
  const [more, setMore] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const { message } = props;
  const armed = useArmed(message !== null, props.openedByTouch === true);
  const close = () => {
    if (!armed()) return;
    setMore(false);
    setConfirming(false);
    props.onClose();
  };
  const then = (action: () => void) => () => {
    if (!armed()) return;
    close();
    action();
  };
  const live = message !== null && message.id !== undefined && !message.deleted && !message.system;
  const canEdit = live && props.mine && !message?.attachment;
  return (
    // No fade: while a Modal fades out its focus trap still holds, and would take the focus back
    // from the composer that Reply and Edit just focused.
    <Modal visible={message !== null} transparent animationType="none" onRequestClose={close} {...dialogName('Message actions')}>
      <Pressable
        aria-label="Close the message actions"
        onPress={close}
        style={{ flex: 1, backgroundColor: '#00000055', justifyContent: sheet ? 'flex-end' : 'center', alignItems: 'center' }}
      >
        <Pressable
          testID="message-actions"
          onPress={() => undefined}
          style={{
            width: '100%',
            maxWidth: sheet ? FORM_WIDTH : 400,
            backgroundColor: colors.surface,
            borderRadius: 16,
            borderBottomLeftRadius: sheet ? 0 : 16,
            borderBottomRightRadius: sheet ? 0 : 16,
            padding: 12,
            paddingBottom: sheet ? 20 : 12,
            gap: 2,
          }}
        >
          {confirming ? (
            <View testID="confirm-delete" style={{ gap: 12, padding: 4 }}>
              <Text style={{ color: colors.foreground, fontSize: 16 }} role="heading" aria-level={2}>
                Delete this message for everyone, Sensei?
              </Text>
              <Text style={{ color: colors.muted }}>It will read “Message deleted” on every device. This cannot be undone.</Text>
              <View style={{ flexDirection: 'row', gap: 8 }}>
                <Button label="Delete" kind="danger" testID="confirm-delete-yes" onPress={then(props.onDelete)} />
                <Button label="Keep it" kind="quiet" testID="confirm-delete-no" onPress={() => setConfirming(false)} />
              </View>
            </View>
          ) : (
            <>
              {live ? (
                <EmojiRow
                  emoji={more ? [...QUICK_REACTIONS, ...MORE_REACTIONS] : QUICK_REACTIONS}
                  mine={props.myReactions}
                  onPick={(emoji) => then(() => props.onReact(emoji))()}
                  extra={
                    more ? null : (
                      <Pressable
                        role="button"
                        aria-label="More emoji"
                        testID="more-reactions"
                        onPress={() => armed() && setMore(true)}
                        style={{ width: 44, height: 44, borderRadius: 22, alignItems: 'center', justifyContent: 'center', borderWidth: 1, borderColor: colors.border }}
                      >
                        <Text aria-hidden style={{ color: colors.link, fontSize: 20, fontWeight: '700' }}>
                          +
                        </Text>
                      </Pressable>
                    )
                  }
                />
              ) : null}
              {live ? <Action icon="↩" label="Reply" testID="action-reply" onPress={then(props.onReply)} /> : null}
              {canEdit ? <Action icon="✎" label="Edit" testID="action-edit" onPress={then(props.onEdit)} /> : null}
              {message?.content && !message.deleted ?  <Action icon="📋" label="Copy text" testID="action-copy" onPress={then(props.onCopy)} /> : null}
              {live && props.mine ? <Action icon="🗑" label="Delete" testID="action-delete" danger onPress={() => armed() && setConfirming(true)} /> : null}
              <Action icon="✕" label="Cancel" testID="action-cancel" onPress={close} />
            </>
          )}
        </Pressable>
      </Pressable>
    </Modal>
  );
}

function EmojiRow({ emoji, mine, onPick, extra }: { emoji: readonly string[]; mine: readonly string[]; onPick: (emoji: string) => void; extra: ReactNode }) {
  const { palette: colors } = useTheme();
  return (
    <View role="group" aria-label="React" style={{ flexDirection: 'row', flexWrap: 'wrap', gap: 6, paddingBottom: 8, borderBottomWidth: 1, borderBottomColor: colors.panel, marginBottom: 4 }}>
      {emoji.map((e) => {
        const pressed = mine.includes(e);
        return (
          <Pressable
            key={e}
            role="button"
            aria-label={pressed ? `Remove your ${e}` : `React with ${e}`}
            {...pressedState(pressed)}
            testID={`react-${e}`}
            onPress={() => onPick(e)}
            style={{
              width: 44,
              height: 44,
              borderRadius: 22,
              alignItems: 'center',
              justifyContent: 'center',
              backgroundColor: pressed ? colors.outgoing : colors.panel,
              borderWidth: pressed ? 2 : 0,
              borderColor: colors.action,
            }}
          >
            <Text style={{ fontSize: 22 }}>{e}</Text>
          </Pressable>
        );
      })}
      {extra}
    </View>
  );
}

function Action({ icon, label, testID, danger, onPress }: { icon: string; label: string; testID: string; danger?: boolean; onPress: () => void }) {
  const { palette: colors } = useTheme();
  const colour = danger ? colors.errorText : colors.foreground;
  return (
    <Pressable role="button" aria-label={label} testID={testID} onPress={onPress} style={{ flexDirection: 'row', alignItems: 'center', gap: 12, paddingVertical: 11, paddingHorizontal: 8, borderRadius: 8 }}>
      <Text aria-hidden style={{ color: colour, fontSize: 18, width: 24, textAlign: 'center' }}>
        {icon}
      </Text>
      <Text style={{ color: colour, fontSize: 16 }}>{label}</Text>
    </Pressable>
  );
}
