/**
 * The chat state under ArTP/1.1 `lifecycle` (PROTOCOL.md §14.9-14.14): edits, deletes and
 * reactions reach the messages held (and the quotes of them), HISTORY and CHANGES bring the
 * current state of what was changed while away, typing comes and goes, and the typing throttle
 * sends what §14.13 asks (with a clock the test moves).
 */
import type { MsgEvent, TypingEvent } from '../../src/protocol/messages';
import { type ChatState, chatReducer, initialChatState } from '../../src/state/chat';
import { quoteText, reactedBy, reactionsAfter } from '../../src/state/lifecycle';
import { newerRev } from '../../src/state/merge';
import { snapshotOf } from '../../src/state/cache';
import { TypingNotifier } from '../../src/state/typing';

const msg = (id: string, from: string, extra: Partial<MsgEvent> = {}): MsgEvent => ({
  type: 'MSG', id, from, dest_type: 'channel', dest: '#general', content: `text ${id}`, timestamp: Number(id), ...extra,
});
const dm = (id: string, from: string, dest: string): MsgEvent => ({ type: 'MSG', id, from, dest_type: 'user', dest, content: `dm ${id}`, timestamp: 1 });

function withMessages(...messages: MsgEvent[]): ChatState {
  let state = chatReducer(initialChatState, { type: 'loggedIn', user: 'sensei', channels: ['#general'] });
  state = chatReducer(state, { type: 'historyLoaded', key: '#general', messages, older: true });
  return state;
}
const general = (state: ChatState) => state.conversations['#general']?.messages ?? [];
const byId = (state: ChatState, id: string) => general(state).find((m) => m.id === id);

describe('replies', () => {
  it('keeps reply_to and the quote from the node', () => {
    const state = withMessages(msg('1', 'kei'), msg('2', 'sensei', { reply_to: '1', reply: { id: '1', from: 'kei', content: 'text 1' } }));
    expect(byId(state, '2')).toMatchObject({ replyTo: '1', reply: { from: 'kei', content: 'text 1' } });
  });

  it('cuts a quote to 140 code points, never in the middle of an emoji', () => {
    expect([...quoteText('🌸'.repeat(200))]).toHaveLength(140);
    expect(quoteText('short')).toBe('short');
  });

  it('shows a pending reply with its quote', () => {
    let state = withMessages(msg('1', 'kei'));
    state = chatReducer(state, {
      type: 'sendStarted', key: '#general', destType: 'channel', dest: '#general', localKey: 'local:a', cid: 'a', content: 'yes',
      timestamp: 3, replyTo: '1', reply: { id: '1', from: 'kei', content: 'text 1' },
    });
    expect(general(state).at(-1)).toMatchObject({ status: 'pending', replyTo: '1', reply: { from: 'kei' } });
  });
});

describe('unread counts and deletes (§14.5)', () => {
  const deleted = (id: string, from = 'kei') =>
    ({ type: 'messageDeleted', event: { type: 'DELETE', msg_id: id, from, dest_type: 'channel', dest: '#general', timestamp: 60 } }) as const;
  const unreadOf = (state: ChatState) => [state.conversations['#general']?.unread, state.conversations['#general']?.mentions];
  const received = () => {
    let state = chatReducer(initialChatState, { type: 'loggedIn', user: 'sensei', channels: ['#general'] });
    for (const message of [msg('1', 'kei'), msg('2', 'kei', { content: 'hi @sensei' }), msg('3', 'sensei'), msg('4', 'kei')]) {
      state = chatReducer(state, { type: 'messageReceived', message });
    }
    return state;
  };

  it('a deleted unread message leaves the unread and mention counts', () => {
    let state = received();
    expect(unreadOf(state)).toEqual([3, 1]);
    state = chatReducer(state, deleted('2'));
    expect(unreadOf(state)).toEqual([2, 0]);
    state = chatReducer(state, deleted('2')); // twice: counted once
    expect(unreadOf(state)).toEqual([2, 0]);
    state = chatReducer(state, deleted('3', 'sensei')); // ours was never unread
    expect(unreadOf(state)).toEqual([2, 0]);
  });

  it('a deleted message at or before the read marker changes nothing', () => {
    let state = chatReducer(received(), { type: 'readMarked', destType: 'channel', dest: '#general', read: '2' });
    expect(unreadOf(state)).toEqual([1, 0]);
    state = chatReducer(state, deleted('1'));
    state = chatReducer(state, deleted('2'));
    expect(unreadOf(state)).toEqual([1, 0]);
    state = chatReducer(state, deleted('4'));
    expect(unreadOf(state)).toEqual([0, 0]);
  });
});

describe('edits and deletes', () => {
  const replied = () => withMessages(msg('1', 'kei'), msg('2', 'sensei', { reply_to: '1', reply: { id: '1', from: 'kei', content: 'text 1' } }));

  it('an EDIT event changes the text, marks it edited, and updates the quotes of it', () => {
    const state = chatReducer(replied(), {
      type: 'messageEdited',
      event: { type: 'EDIT', msg_id: '1', from: 'kei', dest_type: 'channel', dest: '#general', content: 'better text', edited: 50 },
    });
    expect(byId(state, '1')).toMatchObject({ content: 'better text', edited: 50 });
    expect(byId(state, '2')?.reply?.content).toBe('better text');
  });

  it('a DELETE event leaves a tombstone without text, image or reactions, and the quotes say deleted', () => {
    let state = withMessages(
      msg('1', 'kei', { reactions: [{ emoji: '👍', count: 1, users: ['sensei'] }], attachment: { type: 'image', image: 'a'.repeat(64), name: 'x.png', mime: 'image/png', size: 1, width: 1, height: 1 } }),
      msg('2', 'sensei', { reply_to: '1', reply: { id: '1', from: 'kei', content: 'text 1' } }),
    );
    state = chatReducer(state, { type: 'messageDeleted', event: { type: 'DELETE', msg_id: '1', from: 'kei', dest_type: 'channel', dest: '#general', timestamp: 60 } });
    const tomb = byId(state, '1');
    expect(tomb).toMatchObject({ content: '', deleted: 60 });
    expect(tomb?.attachment).toBeUndefined();
    expect(tomb?.reactions).toBeUndefined();
    expect(byId(state, '2')?.reply).toMatchObject({ content: '', deleted: true });
  });

  it('my own edit and delete apply on OK', () => {
    let state = replied();
    state = chatReducer(state, { type: 'ownEdit', key: '#general', id: '2', content: 'fixed', edited: 70 });
    expect(byId(state, '2')).toMatchObject({ content: 'fixed', edited: 70 });
    state = chatReducer(state, { type: 'ownDelete', key: '#general', id: '2', deleted: 71 });
    expect(byId(state, '2')).toMatchObject({ content: '', deleted: 71 });
  });

  it('files a DM edit under the peer, whoever sent it', () => {
    let state = chatReducer(initialChatState, { type: 'loggedIn', user: 'sensei', channels: [] });
    state = chatReducer(state, { type: 'messageReceived', message: dm('5', 'kei', 'sensei') });
    state = chatReducer(state, { type: 'messageReceived', message: dm('6', 'sensei', 'kei') });
    state = chatReducer(state, { type: 'messageEdited', event: { type: 'EDIT', msg_id: '5', from: 'kei', dest_type: 'user', dest: 'sensei', content: 'a', edited: 1 } });
    state = chatReducer(state, { type: 'messageEdited', event: { type: 'EDIT', msg_id: '6', from: 'sensei', dest_type: 'user', dest: 'kei', content: 'b', edited: 1 } });
    expect(state.conversations['@kei']?.messages.map((m) => m.content)).toEqual(['a', 'b']);
  });

  it('ignores an event for a message it does not hold', () => {
    const state = replied();
    const next = chatReducer(state, { type: 'messageDeleted', event: { type: 'DELETE', msg_id: '99', from: 'kei', dest_type: 'channel', dest: '#general' } });
    expect(next.conversations).toBe(state.conversations);
  });
});

describe('reactions', () => {
  it('adds and removes names, trusts the node count, drops a chip at 0, keeps first-made order', () => {
    let reactions = reactionsAfter(undefined, { emoji: '👍', who: 'kei', added: true, count: 1 });
    reactions = reactionsAfter(reactions, { emoji: '🎉', who: 'kei', added: true, count: 1 });
    reactions = reactionsAfter(reactions, { emoji: '👍', who: 'yuuka', added: true, count: 12 });
    expect(reactions).toEqual([
      { emoji: '👍', count: 12, users: ['kei', 'yuuka'] },
      { emoji: '🎉', count: 1, users: ['kei'] },
    ]);
    reactions = reactionsAfter(reactions, { emoji: '🎉', who: 'kei', added: false, count: 0 });
    expect(reactions?.map((r) => r.emoji)).toEqual(['👍']);
    expect(reactionsAfter(reactions, { emoji: '👍', who: 'kei', added: false, count: 0 })).toBeUndefined();
  });

  it('a REACTION event and my own toggle reach the message; reactedBy says whose', () => {
    let state = withMessages(msg('1', 'kei'));
    state = chatReducer(state, {
      type: 'reactionChanged',
      event: { type: 'REACTION', msg_id: '1', from: 'yuuka', emoji: '👍', added: true, count: 1, dest_type: 'channel', dest: '#general' },
    });
    state = chatReducer(state, { type: 'ownReaction', key: '#general', id: '1', emoji: '👍', added: true, count: 2 });
    const message = byId(state, '1');
    expect(message?.reactions).toEqual([{ emoji: '👍', count: 2, users: ['yuuka', 'sensei'] }]);
    expect(message && reactedBy(message, '👍', 'Sensei')).toBe(true);
    expect(message && reactedBy(message, '🎉', 'sensei')).toBe(false);
  });
});

describe('catching up on changes (§14.14)', () => {
  it('tracks the newest rev of the pages loaded, comparing decimal strings by value', () => {
    const state = withMessages(msg('1', 'kei', { rev: '9' }), msg('2', 'kei', { rev: '10' }));
    expect(state.conversations['#general']?.rev).toBe('10');
    expect(newerRev('10', '9')).toBe(true);
    expect(newerRev('9', '10')).toBe(false);
    expect(newerRev('1', undefined)).toBe(true);
  });

  it('CHANGES updates the messages held (edited, deleted, reactions) and adds none', () => {
    let state = withMessages(msg('1', 'kei', { rev: '3' }), msg('2', 'kei', { rev: '4' }));
    state = chatReducer(state, {
      type: 'changesLoaded',
      key: '#general',
      rev: '8',
      messages: [
        msg('1', 'kei', { content: 'edited away', edited: 7, rev: '6' }),
        msg('2', 'kei', { content: '', deleted: 8, rev: '8' }),
        msg('3', 'kei', { rev: '5' }),
      ],
    });
    expect(general(state).map((m) => [m.id, m.content, m.edited, m.deleted])).toEqual([
      ['1', 'edited away', 7, undefined],
      ['2', '', undefined, 8],
    ]);
    expect(state.conversations['#general']?.rev).toBe('8');
  });

  it('a HISTORY page refreshes a held message to its current state', () => {
    let state = withMessages(msg('1', 'kei'));
    state = chatReducer(state, { type: 'historyLoaded', key: '#general', messages: [msg('1', 'kei', { content: 'now', edited: 2, reactions: [{ emoji: '🎉', count: 1 }] })], older: false });
    expect(byId(state, '1')).toMatchObject({ content: 'now', edited: 2, reactions: [{ emoji: '🎉', count: 1 }] });
  });

  it('keeps rev, edits and tombstones in the device cache', () => {
    let state = withMessages(msg('1', 'kei', { rev: '5', edited: 4 }), msg('2', 'kei', { deleted: 5, content: '' }));
    state = chatReducer(state, { type: 'conversationOpened', destType: 'channel', dest: '#general' });
    const cached = snapshotOf(state)?.conversations.find((c) => c.key === '#general');
    expect(cached?.rev).toBe('5');
    expect(cached?.messages.map((m) => [m.edited, m.deleted])).toEqual([[4, undefined], [undefined, 5]]);
  });
});

describe('typing (§14.13)', () => {
  const typing = (from: string, on: boolean, expires_ms = 6000): TypingEvent => ({ type: 'TYPING', from, dest_type: 'channel', dest: '#general', typing: on, expires_ms });

  it('shows a typist until expires_ms, a typing:false, or a message from them', () => {
    let state = withMessages();
    state = chatReducer(state, { type: 'typingChanged', event: typing('kei', true), now: 1000 });
    state = chatReducer(state, { type: 'typingChanged', event: typing('yuuka', true, 2000), now: 1000 });
    expect(state.typing['#general']?.map((t) => t.name)).toEqual(['kei', 'yuuka']);
    state = chatReducer(state, { type: 'typingExpired', now: 3500 });
    expect(state.typing['#general']?.map((t) => t.name)).toEqual(['kei']);
    state = chatReducer(state, { type: 'messageReceived', message: msg('1', 'kei') });
    expect(state.typing['#general']).toBeUndefined();
    state = chatReducer(state, { type: 'typingChanged', event: typing('kei', true), now: 4000 });
    state = chatReducer(state, { type: 'typingChanged', event: typing('kei', false), now: 4100 });
    expect(state.typing['#general']).toBeUndefined();
  });

  it('never shows my own typing, and is not cached', () => {
    let state = withMessages();
    state = chatReducer(state, { type: 'typingChanged', event: typing('sensei', true), now: 1 });
    expect(state.typing).toEqual({});
    state = chatReducer(state, { type: 'typingChanged', event: typing('kei', true), now: 1 });
    expect(JSON.stringify(snapshotOf(state))).not.toContain('until');
  });

  it('sends true at most every 3 s while the draft changes, false once when cleared', () => {
    let now = 0;
    const sent: string[] = [];
    const notifier = new TypingNotifier((_t, dest, on) => sent.push(`${dest}:${on}`), () => now);
    notifier.changed('channel', '#general', 'h');
    now = 1000;
    notifier.changed('channel', '#general', 'he');
    now = 3000;
    notifier.changed('channel', '#general', 'hel');
    now = 3500;
    notifier.changed('channel', '#general', '');
    notifier.stopped();
    expect(sent).toEqual(['#general:true', '#general:true', '#general:false']);
  });

  it('sends no false after the others\' "typing…" has expired, and stops one conversation for another', () => {
    let now = 0;
    const sent: string[] = [];
    const notifier = new TypingNotifier((_t, dest, on) => sent.push(`${dest}:${on}`), () => now);
    notifier.changed('channel', '#general', 'h');
    now = 7000;
    notifier.stopped();
    notifier.changed('channel', '#general', 'x');
    notifier.changed('user', 'kei', 'y');
    expect(sent).toEqual(['#general:true', '#general:true', '#general:false', 'kei:true']);
  });
});
