/**
 * Moderation in the web client (ArTP/1.1 §14.16-14.21), as functions and components: the
 * words for MODERATION events and refusals, role marks and their order, invitation links, the
 * reducer (roles, modes, lines, a kick of oneself, blocked users hidden), and the member sheet
 * an operator moderates from. The same against a real node is in tests/e2e/moderation.
 */
import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import { MemberSheet } from '../../src/components/MemberSheet';
import type { ModerationEvent, ModerationRequest } from '../../src/protocol/messages';
import { checkRequest } from '../../src/protocol/messages';
import { compareByRole, describeModeration, explain, parseInviteLink, roleMark } from '../../src/protocol/moderation';
import { ChatScreen, type ChatScreenProps } from '../../src/screens/ChatScreen';
import { type ChatState, chatReducer, type Conversation, initialChatState } from '../../src/state/chat';

const FP = 'SHA256:Jh4WTwNZduoQHnHxd9+2c3sI/EbzYe2ko0S+WWfk4/U';
const TOKEN = 'O8nkEWyzMGZkQdSkVhT47rp2glAhA0p27dSKPOxjtg8';

const event = (fields: Partial<ModerationEvent> & Pick<ModerationEvent, 'action'>): ModerationEvent => ({
  type: 'MODERATION',
  id: `e-${fields.action}-${fields.user ?? ''}`,
  channel: '#plaza',
  by: 'arona',
  timestamp: 1_700_000_000,
  ...fields,
});

describe('moderation words', () => {
  it('tells each event in one sentence, "you" when it is about me', () => {
    expect(describeModeration(event({ action: 'ban', user: 'kei', reason: 'spam' }), 'sensei')).toBe('kei was banned from #plaza by arona: spam');
    expect(describeModeration(event({ action: 'kick', user: 'Sensei' }), 'sensei')).toBe('you were kicked from #plaza by arona');
    expect(describeModeration(event({ action: 'role', user: 'kei', role: 'operator' }), null)).toBe('arona made kei an operator of #plaza');
    expect(describeModeration(event({ action: 'mode', modes: { invite_only: true, moderated: true } }), null)).toBe(
      'arona set #plaza to invite-only, moderated (only voiced members post)',
    );
    expect(describeModeration(event({ action: 'unmute', user: 'kei' }), null)).toBe('kei may speak again in #plaza (arona lifted the mute)');
    expect(describeModeration(event({ action: 'invite', user: 'kei' }), null)).toBe('arona invited kei to #plaza');
  });

  it('explains the refusal codes and leaves the others alone', () => {
    expect(explain('NOT_OPERATOR')).toMatch(/only the channel's operators/);
    expect(explain('NOT_VOICED')).toMatch(/moderated/);
    expect(explain('RATE_LIMITED')).toBeUndefined();
  });

  it('marks roles as IRC does and orders the strongest first', () => {
    expect([roleMark('owner'), roleMark('operator'), roleMark('voiced'), roleMark('member'), roleMark(undefined)]).toEqual(['~', '@', '+', '', '']);
    const roles = { arona: 'owner', kei: 'operator', hina: 'voiced' };
    expect(['zed', 'hina', 'kei', 'arona', 'ayu'].sort((a, b) => compareByRole(roles, a, b))).toEqual(['arona', 'kei', 'hina', 'ayu', 'zed']);
  });
});

describe('invitation links', () => {
  it('reads aronanet:// links, percent-encoded or not, and the web fragment', () => {
    const encoded = `aronanet://127.0.0.1:7777/?fp=${encodeURIComponent(FP)}&invite=${TOKEN}`;
    expect(parseInviteLink(encoded)).toEqual({ address: '127.0.0.1:7777', fingerprint: FP, token: TOKEN });
    expect(parseInviteLink(`aronanet://node.example:7777/?fp=${FP}&invite=${TOKEN}`)?.fingerprint).toBe(FP);
    expect(parseInviteLink(`#invite=${TOKEN}&fp=${encodeURIComponent(FP)}`)).toEqual({ address: '', fingerprint: FP, token: TOKEN });
  });

  it('refuses links without a key or with a malformed token', () => {
    expect(parseInviteLink(`aronanet://h:1/?invite=${TOKEN}`)).toBeNull();
    expect(parseInviteLink(`aronanet://h:1/?fp=${FP}&invite=short`)).toBeNull();
    expect(parseInviteLink('127.0.0.1:7778')).toBeNull();
  });

  it('sends the token with the registration, checked like the node checks it', () => {
    expect(checkRequest({ type: 'AUTH', user: 'mika', password: 'password1', register: true, invite: TOKEN })).toMatchObject({ invite: TOKEN });
    expect(() => checkRequest({ type: 'AUTH', user: 'mika', password: 'password1', invite: 'bad token!' })).toThrow();
    expect(() => checkRequest({ type: 'MUTE', channel: '#plaza', user: 'kei', seconds: 31 * 86400 })).toThrow();
  });
});

const plaza: Conversation = {
  key: '#plaza',
  destType: 'channel',
  dest: '#plaza',
  messages: [{ key: 'm1', id: 'm1', from: 'kei', content: 'buy my stuff', timestamp: 1, status: 'sent' }],
  unread: 0,
  mentions: 0,
  reachedStart: false,
  members: ['arona', 'kei', 'sensei'],
};
const signedIn: ChatState = { ...initialChatState, user: 'sensei', conversations: { '#plaza': plaza }, active: '#plaza' };

describe('the moderation reducer', () => {
  it('keeps roles and modes and adds a system line per event', () => {
    let state = chatReducer(signedIn, {
      type: 'rosterLoaded',
      channel: '#plaza',
      // 'Zed' was trimmed from JOIN's member list; the roster, every page of it, has them.
      roster: [{ user: 'arona', role: 'owner' }, { user: 'kei', role: 'member' }, { user: 'sensei', role: 'member' }, { user: 'Zed', role: 'member' }],
      modes: { moderated: false },
    });
    expect(state.conversations['#plaza']?.roles).toEqual({ arona: 'owner' });
    expect(state.conversations['#plaza']?.members).toEqual(['arona', 'kei', 'sensei', 'Zed']);
    state = chatReducer(state, { type: 'moderated', event: event({ action: 'role', user: 'kei', role: 'voiced' }) });
    state = chatReducer(state, { type: 'moderated', event: event({ action: 'mode', modes: { moderated: true } }) });
    state = chatReducer(state, { type: 'moderated', event: event({ action: 'ban', user: 'kei', reason: 'spam' }) });
    const after = state.conversations['#plaza'];
    expect(after?.roles).toEqual({ arona: 'owner' });
    expect(after?.modes).toEqual({ moderated: true });
    expect(after?.members).toEqual(['arona', 'sensei', 'Zed']);
    expect(after?.messages.filter((m) => m.system === 'moderation').map((m) => m.content)).toEqual([
      'arona made kei voiced of #plaza',
      'arona set #plaza to moderated (only voiced members post)',
      'kei was banned from #plaza by arona: spam',
    ]);
    // the same event twice (after a reconnect) is one line
    expect(chatReducer(state, { type: 'moderated', event: event({ action: 'ban', user: 'kei', reason: 'spam' }) })).toBe(state);
  });

  it('closes the channel when I am kicked, and says why', () => {
    const state = chatReducer(signedIn, { type: 'moderated', event: event({ action: 'kick', user: 'sensei', reason: 'bye' }) });
    expect(state.conversations['#plaza']).toBeUndefined();
    expect(state.active).toBeNull();
    expect(state.removedFrom).toBe('you were kicked from #plaza by arona: bye');
  });

  it("hides a blocked user's channel messages, now and as they arrive", () => {
    let state = chatReducer(signedIn, { type: 'blocksLoaded', users: ['KEI'] });
    expect(state.conversations['#plaza']?.messages).toEqual([]);
    state = chatReducer(state, {
      type: 'messageReceived',
      message: { type: 'MSG', id: 'm2', from: 'kei', dest_type: 'channel', dest: '#plaza', content: 'again', timestamp: 2 },
    });
    expect(state.conversations['#plaza']?.messages).toEqual([]);
  });
});

function chatProps(overrides: Partial<ChatScreenProps>): ChatScreenProps {
  return {
    me: 'sensei',
    link: 'online',
    conversation: { ...plaza, roles: { sensei: 'owner', kei: 'voiced' } },
    onSend: async () => undefined,
    onSendImage: async () => undefined,
    onRetry: () => undefined,
    onLoadOlder: async () => undefined,
    loadImage: async () => 'data:image/png;base64,AAAA',
    pickImage: async () => null,
    ...overrides,
  };
}

describe('the member list and sheet', () => {
  it('shows marks in the channel header, strongest first', () => {
    render(<ChatScreen {...chatProps({ onModerate: async () => undefined, onBlock: async () => undefined })} />);
    expect(screen.getByTestId('channel-members')).toHaveTextContent('3 members: ~sensei, +kei, arona');
  });

  it('names the first 40 of a big channel in the header, and the sheet lists members as they scroll', () => {
    const crowd = Array.from({ length: 1500 }, (_, n) => `m${String(n).padStart(4, '0')}`);
    const big = { ...plaza, members: [...crowd, 'sensei'], roles: { sensei: 'owner' } };
    const header = render(<ChatScreen {...chatProps({ conversation: big, onModerate: async () => undefined, onBlock: async () => undefined })} />);
    const line = screen.getByTestId('channel-members');
    expect(line).toHaveTextContent(/^1501 members: ~sensei, m0000, m0001, .*, m0038, …$/);
    expect(line).not.toHaveTextContent(/m0039/);
    header.unmount();
    render(<MemberSheet visible conversation={big} me="sensei" blocked={[]} onModerate={async () => undefined} onBlock={async () => undefined} onClose={() => undefined} />);
    expect(screen.getByText('#plaza · 1501 members')).toBeTruthy();
    expect(screen.getByTestId('member-m0000')).toBeTruthy();
    expect(screen.queryByTestId('member-m1499')).toBeNull(); // rendered when scrolled to, not all at once
  });

  it('lets an operator kick with a reason and set modes, and anyone block', async () => {
    const asked: ModerationRequest[] = [];
    const blocked: Array<[string, boolean]> = [];
    render(
      <MemberSheet
        visible
        conversation={{ ...plaza, roles: { sensei: 'operator' } }}
        me="sensei"
        blocked={[]}
        onModerate={async (request) => {
          asked.push(request);
        }}
        onBlock={async (user, on) => {
          blocked.push([user, on]);
        }}
        onClose={() => undefined}
      />,
    );
    fireEvent.press(screen.getByTestId('member-kei'));
    fireEvent.changeText(screen.getByTestId('moderation-reason'), 'spam');
    fireEvent.press(screen.getByTestId('member-kick'));
    await waitFor(() => expect(asked).toEqual([{ type: 'KICK', channel: '#plaza', user: 'kei', reason: 'spam' }]));
    fireEvent.press(screen.getByTestId('mode-invite_only'));
    await waitFor(() => expect(asked[1]).toEqual({ type: 'MODE', channel: '#plaza', invite_only: true }));
    fireEvent.press(screen.getByTestId('member-arona'));
    fireEvent.press(screen.getByTestId('member-block'));
    await waitFor(() => expect(blocked).toEqual([['arona', true]]));
  });

  it('offers a plain member only blocking, and explains a refusal', async () => {
    render(
      <MemberSheet
        visible
        conversation={plaza}
        me="sensei"
        blocked={['kei']}
        onModerate={async () => undefined}
        onBlock={async () => {
          throw Object.assign(new Error('NOT_OPERATOR: nope'), { code: 'NOT_OPERATOR' });
        }}
        onClose={() => undefined}
      />,
    );
    expect(screen.queryByTestId('channel-settings')).toBeNull();
    fireEvent.press(screen.getByTestId('member-kei'));
    expect(screen.queryByTestId('member-kick')).toBeNull();
    expect(screen.getByTestId('member-block')).toHaveTextContent('Unblock kei');
    fireEvent.press(screen.getByTestId('member-block'));
    await waitFor(() => expect(screen.getByTestId('moderation-error')).toHaveTextContent(/only the channel's operators/));
  });
});
