/**
 * A channel's members with their IRC role marks (~ owner, @ operator, + voiced; §14.16),
 * strongest first. Tapping a member opens what can be done to them: for an operator, kick,
 * ban, mute for a while, make operator or voiced (with an optional reason); for anyone, block
 * (their channel messages are hidden, their DMs refused, §14.19). An operator also gets the
 * channel's settings: its modes (§14.17). A dialog, like the message actions.
 */
import { useState } from 'react';
import { FlatList, Modal, Pressable, Text, View } from 'react-native';

import type { ModerationRequest, Modes } from '../protocol/messages';
import { compareByRole, describeModes, explain, isOperator, MUTE_CHOICES, roleMark } from '../protocol/moderation';
import type { Conversation } from '../state/chat';
import { sameName } from '../state/names';
import { useTheme } from '../theme/ThemeContext';
import { Button, dialogName, Field, FORM_WIDTH, Notice, pressedState, SmallButton } from './ui';

export interface MemberSheetProps {
  readonly visible: boolean;
  readonly conversation: Conversation;
  readonly me: string;
  readonly blocked: readonly string[];
  readonly onModerate: (request: ModerationRequest) => Promise<void>;
  readonly onBlock: (user: string, blocked: boolean) => Promise<void>;
  readonly onClose: () => void;
}

const MODE_LABELS: ReadonlyArray<[keyof Modes, string]> = [
  ['invite_only', 'Invite only'],
  ['moderated', 'Moderated'],
  ['topic_locked', 'Topic locked'],
];

/** A refusal in words, with its code (NOT_OPERATOR: "only the channel's operators…"). */
function refusal(caught: unknown): string {
  const code = (caught as { code?: string }).code ?? '';
  const meaning = explain(code);
  const text = caught instanceof Error ? caught.message : String(caught);
  return meaning ? `Sorry Sensei, ${meaning} (${text})` : `Sorry Sensei, that failed (${text})`;
}

export function MemberSheet(props: MemberSheetProps) {
  const { palette: colors } = useTheme();
  const { conversation, me } = props;
  const [chosen, setChosen] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const roles = conversation.roles ?? {};
  const mine = roles[me.toLowerCase()];
  const operator = isOperator(mine);
  const members = [...(conversation.members ?? [])].sort((a, b) => compareByRole(roles, a, b));
  const channel = conversation.dest;

  const close = () => {
    setChosen(null);
    setReason('');
    setProblem(null);
    props.onClose();
  };
  const run = (work: () => Promise<void>) => () => {
    setProblem(null);
    work().then(
      () => {
        setChosen(null);
        setReason('');
      },
      (caught: unknown) => setProblem(refusal(caught)),
    );
  };
  const why = reason.trim() ? { reason: reason.trim() } : {};
  const isBlocked = (user: string) => props.blocked.some((name) => sameName(name, user));

  const actions = (user: string) => {
    const role = roles[user.toLowerCase()] ?? 'member';
    const ask = (request: ModerationRequest) => run(() => props.onModerate(request));
    return (
      <View testID="member-actions" style={{ gap: 6, paddingVertical: 6 }}>
        {operator && role !== 'owner' ? (
          <>
            <Field label={`Reason (optional, shown to everyone)`} testID="moderation-reason" value={reason} onChangeText={setReason} maxLength={390} />
            <View style={{ flexDirection: 'row', flexWrap: 'wrap', gap: 6 }}>
              <SmallButton label={`Kick ${user}`} testID="member-kick" onPress={ask({ type: 'KICK', channel, user, ...why })} />
              <SmallButton label={`Ban ${user}`} testID="member-ban" onPress={ask({ type: 'BAN', channel, user, ...why })} />
              {MUTE_CHOICES.map(([label, seconds]) => (
                <SmallButton key={seconds} label={`Mute ${label}`} testID={`member-mute-${seconds}`} onPress={ask({ type: 'MUTE', channel, user, seconds, ...why })} />
              ))}
              <SmallButton
                label={role === 'operator' ? 'Take operator' : 'Make operator'}
                testID="member-op"
                onPress={ask({ type: 'ROLE', channel, user, role: role === 'operator' ? 'member' : 'operator' })}
              />
              <SmallButton
                label={role === 'voiced' ? 'Take voice' : 'Give voice'}
                testID="member-voice"
                onPress={ask({ type: 'ROLE', channel, user, role: role === 'voiced' ? 'member' : 'voiced' })}
              />
            </View>
          </>
        ) : null}
        <SmallButton
          label={isBlocked(user) ? `Unblock ${user}` : `Block ${user}`}
          testID="member-block"
          onPress={run(() => props.onBlock(user, !isBlocked(user)))}
        />
      </View>
    );
  };

  return (
    <Modal visible={props.visible} transparent animationType="fade" onRequestClose={close} {...dialogName(`Members of ${channel}`)}>
      <Pressable aria-label="Close the member list" onPress={close} style={{ flex: 1, backgroundColor: '#00000055', justifyContent: 'flex-end', alignItems: 'center' }}>
        <Pressable
          testID="member-sheet"
          onPress={() => undefined}
          style={{ width: '100%', maxWidth: FORM_WIDTH, maxHeight: '85%', backgroundColor: colors.surface, borderTopLeftRadius: 16, borderTopRightRadius: 16, padding: 12 }}
        >
          <FlatList
            data={members}
            keyExtractor={(user) => user}
            extraData={[chosen, reason, roles, props.blocked]}
            initialNumToRender={40}
            contentContainerStyle={{ gap: 4 }}
            ListHeaderComponent={
              <View style={{ gap: 4 }}>
                <Text role="heading" style={{ color: colors.foreground, fontWeight: '700', fontSize: 16 }}>
                  {channel} · {members.length === 1 ? '1 member' : `${members.length} members`}
                </Text>
                {problem ? <Notice tone="error" text={problem} testID="moderation-error" /> : null}
              </View>
            }
            renderItem={({ item: user }) => {
              const mark = roleMark(roles[user.toLowerCase()]);
              const open = chosen !== null && sameName(chosen, user);
              return (
                <View>
                  <Pressable
                    role="button"
                    aria-label={`${user}${mark ? ` (${roles[user.toLowerCase()]})` : ''}`}
                    aria-expanded={open}
                    testID={`member-${user}`}
                    disabled={sameName(user, me)}
                    onPress={() => setChosen(open ? null : user)}
                    style={{ paddingVertical: 8, flexDirection: 'row', gap: 6 }}
                  >
                    <Text style={{ color: colors.link, fontWeight: '700', width: 14 }}>{mark}</Text>
                    <Text style={{ color: colors.foreground }}>
                      {user}
                      {isBlocked(user) ? ' (blocked)' : ''}
                    </Text>
                  </Pressable>
                  {open ? actions(user) : null}
                </View>
              );
            }}
            ListFooterComponent={
              <View style={{ gap: 4 }}>
                {operator ? (
                  <View testID="channel-settings" style={{ gap: 6, marginTop: 8 }}>
                    <Text role="heading" style={{ color: colors.foreground, fontWeight: '700' }}>
                      Channel settings
                    </Text>
                    <Text style={{ color: colors.muted, fontSize: 12 }}>Now: {describeModes(conversation.modes)}</Text>
                    <View style={{ flexDirection: 'row', flexWrap: 'wrap', gap: 6 }}>
                      {MODE_LABELS.map(([mode, label]) => {
                        const on = conversation.modes?.[mode] === true;
                        return (
                          <Pressable
                            key={mode}
                            role="button"
                            aria-label={label}
                            {...pressedState(on)}
                            testID={`mode-${mode}`}
                            onPress={run(() => props.onModerate({ type: 'MODE', channel, [mode]: !on }))}
                            style={{ paddingVertical: 8, paddingHorizontal: 12, borderRadius: 16, borderWidth: 1, borderColor: colors.link, backgroundColor: on ? colors.action : 'transparent' }}
                          >
                            <Text style={{ color: on ? colors.onAction : colors.link }}>
                              {on ? '✓ ' : ''}
                              {label}
                            </Text>
                          </Pressable>
                        );
                      })}
                    </View>
                  </View>
                ) : null}
                <Button label="Close" kind="quiet" testID="close-members" onPress={close} />
              </View>
            }
          />
        </Pressable>
      </Pressable>
    </Modal>
  );
}
