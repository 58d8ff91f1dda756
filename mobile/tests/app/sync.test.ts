/**
 * The reducer's side of ArTP/1.1 sync: conversations listed with their counts, read markers
 * from this and other devices, mentions counted with the shared rule, a pending message matched
 * to the node's copy by its client id; and the small pieces: names, titles, the image cache.
 */
import type { MsgEvent } from '../../src/protocol/messages';
import { type ChatState, chatReducer, initialChatState } from '../../src/state/chat';
import { sortedConversations } from '../../src/state/conversations';
import { ImageCache } from '../../src/state/imageCache';
import { compareNames, conversationTitle, sameName } from '../../src/state/names';

const msg = (id: string, from: string, content: string, extra: Partial<MsgEvent> = {}): MsgEvent => ({
  type: 'MSG', id, from, dest_type: 'user', dest: from === 'sensei' ? 'kei' : 'sensei', content, timestamp: Number(id), ...extra,
});

const signedIn = (): ChatState => chatReducer(initialChatState, { type: 'loggedIn', user: 'sensei', channels: ['#general'] });

describe('conversations and read markers in the reducer', () => {
  it('lists every conversation the node names, DMs included, with unread, mentions and the marker', () => {
    const state = chatReducer(signedIn(), {
      type: 'conversationsListed',
      conversations: [
        { dest_type: 'channel', dest: '#general', unread: 0, mentions: 0, last_id: '3', last_timestamp: 3, read: '3' },
        { dest_type: 'user', dest: 'kei', unread: 2, mentions: 1, last_id: '9', last_timestamp: 9 },
      ],
    });
    expect(state.conversations['@kei']).toMatchObject({ destType: 'user', dest: 'kei', unread: 2, mentions: 1 });
    expect(state.conversations['#general']).toMatchObject({ read: '3', unread: 0 });
    expect(sortedConversations(state).map((c) => c.key)).toEqual(['@kei', '#general']); // newest first, before any load
  });

  it('counts a message that mentions the user, by the shared rule', () => {
    let state = signedIn();
    state = chatReducer(state, { type: 'messageReceived', message: msg('1', 'kei', 'hi') });
    state = chatReducer(state, { type: 'messageReceived', message: msg('2', 'kei', '@Sensei look') });
    state = chatReducer(state, { type: 'messageReceived', message: msg('3', 'kei', 'sensei: lunch?') });
    expect(state.conversations['@kei']).toMatchObject({ unread: 3, mentions: 2 });
  });

  it('clears what another device read (a READ event), and counts only what came after the marker', () => {
    let state = signedIn();
    for (const id of ['1', '2', '3']) state = chatReducer(state, { type: 'messageReceived', message: msg(id, 'kei', `@sensei ${id}`) });
    state = chatReducer(state, { type: 'readMarked', destType: 'user', dest: 'kei', read: '2' });
    expect(state.conversations['@kei']).toMatchObject({ read: '2', unread: 1, mentions: 1 });
    state = chatReducer(state, { type: 'readMarked', destType: 'user', dest: 'kei', read: '3' });
    expect(state.conversations['@kei']).toMatchObject({ read: '3', unread: 0, mentions: 0 });
  });

  it('treats a marker past everything held here as all read', () => {
    let state = signedIn();
    state = chatReducer(state, { type: 'messageReceived', message: msg('1', 'kei', 'hi') });
    state = chatReducer(state, { type: 'readMarked', destType: 'user', dest: 'kei', read: '99' });
    expect(state.conversations['@kei']).toMatchObject({ unread: 0, mentions: 0 });
  });

  it('replaces a pending message with the node copy that carries its client id, keeping one', () => {
    let state = signedIn();
    state = chatReducer(state, {
      type: 'sendStarted', key: '@kei', destType: 'user', dest: 'kei', localKey: 'local:c1', cid: 'c1', content: 'ok', timestamp: 1,
    });
    expect(state.conversations['@kei']?.messages.map((m) => m.status)).toEqual(['pending']);
    state = chatReducer(state, { type: 'historyLoaded', key: '@kei', messages: [msg('7', 'sensei', 'ok', { cid: 'c1' })], older: false });
    expect(state.conversations['@kei']?.messages.map((m) => [m.id, m.status])).toEqual([['7', 'sent']]);
    state = chatReducer(state, { type: 'sendSucceeded', key: '@kei', localKey: 'local:c1', id: '7', timestamp: 7 }); // the duplicate OK
    expect(state.conversations['@kei']?.messages).toHaveLength(1);
  });

  it('replaces a message resent after a power cut (same sender and cid, new id) with the new copy', () => {
    let state = signedIn();
    state = chatReducer(state, { type: 'messageReceived', message: msg('7', 'kei', 'power?', { cid: 'c9' }) });
    state = chatReducer(state, { type: 'messageReceived', message: msg('8', 'kei', 'hi') });
    state = chatReducer(state, { type: 'messageReceived', message: msg('12', 'kei', 'power?', { cid: 'c9' }) });
    expect(state.conversations['@kei']?.messages.map((m) => [m.id, m.content])).toEqual([['8', 'hi'], ['12', 'power?']]);
    // The same cid from someone else is another message (§14.4).
    state = chatReducer(state, { type: 'messageReceived', message: msg('13', 'sensei', 'power?', { cid: 'c9' }) });
    expect(state.conversations['@kei']?.messages.map((m) => m.id)).toEqual(['8', '12', '13']);
  });

  it('forgets everything on logout', () => {
    expect(chatReducer(signedIn(), { type: 'loggedOut' })).toEqual(initialChatState);
  });
});

describe('names, titles and the image cache', () => {
  it('compares user names ignoring case, and titles DMs with @', () => {
    expect(sameName('Kei', 'kEI')).toBe(true);
    expect(['b', 'A', 'c'].sort(compareNames)).toEqual(['A', 'b', 'c']);
    expect(conversationTitle({ destType: 'user', dest: 'kei' })).toBe('@kei');
    expect(conversationTitle({ destType: 'channel', dest: '#general' })).toBe('#general');
  });

  it('keeps only the most recently used decoded images, and drops a failed download', async () => {
    const cache = new ImageCache(2);
    cache.set('a', Promise.resolve('data:a'));
    cache.set('b', Promise.resolve('data:b'));
    cache.get('a');
    cache.set('c', Promise.resolve('data:c'));
    expect([cache.get('a') !== undefined, cache.get('b') !== undefined, cache.get('c') !== undefined]).toEqual([true, false, true]);
    const failed = Promise.reject(new Error('gone'));
    cache.set('d', failed);
    await failed.catch(() => undefined);
    expect(cache.get('d')).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
