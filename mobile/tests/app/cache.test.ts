/**
 * The conversation cache's bounds (state/cache), at their edges: the newest N confirmed
 * messages per conversation, and a total size past which the least recent conversations keep
 * their place in the list but not their messages. Pending messages stay in the outbox only.
 */
import { snapshotOf } from '../../src/state/cache';
import { type ChatMessage, type ChatState, type Conversation, chatReducer, initialChatState } from '../../src/state/chat';

function message(n: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return { key: `m${n}`, id: `m${n}`, from: 'kei', content: `line ${n}`, timestamp: n, status: 'sent', ...extra };
}

function conversation(key: string, messages: ChatMessage[], reachedStart = true): Conversation {
  return { key, destType: 'channel', dest: key, messages, unread: 2, mentions: 1, reachedStart };
}

function stateWith(...conversations: Conversation[]): ChatState {
  return { ...initialChatState, user: 'sensei', conversations: Object.fromEntries(conversations.map((c) => [c.key, c])) };
}

describe('the conversation cache', () => {
  it('keeps the newest N confirmed messages, not what waits in the outbox', () => {
    const pending = message(9, { key: 'local:x', id: undefined, status: 'pending', cid: 'x' });
    const state = stateWith(conversation('#a', [1, 2, 3, 4].map((n) => message(n)).concat(pending)));
    const at = (limit: number) => snapshotOf(state, { messagesPerConversation: limit, totalChars: 1e6 })?.conversations[0];
    expect(at(4)?.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(at(4)).toMatchObject({ reachedStart: true, unread: 2, mentions: 1 }); // nothing cut
    expect(at(3)?.messages.map((m) => m.id)).toEqual(['m2', 'm3', 'm4']);
    expect(at(3)?.reachedStart).toBe(false); // the start was cut off
  });

  it('drops the messages of the least recent conversations past the size budget, keeping them listed', () => {
    const recent = conversation('#recent', [message(20)]);
    const old = conversation('#old', [message(1)]);
    const state = stateWith(old, recent);
    const full = snapshotOf(state, { messagesPerConversation: 100, totalChars: 1e6 });
    const size = (full?.conversations ?? []).reduce((sum, c) => sum + JSON.stringify(c).length, 0);
    const within = snapshotOf(state, { messagesPerConversation: 100, totalChars: size });
    expect(within?.conversations.map((c) => c.messages.length)).toEqual([1, 1]);
    const over = snapshotOf(state, { messagesPerConversation: 100, totalChars: size - 1 });
    expect(over?.conversations.map((c) => [c.key, c.messages.length])).toEqual([
      ['#recent', 1],
      ['#old', 0],
    ]);
  });

  it('keeps nothing when nobody is signed in, and restores by merging, one copy per id', () => {
    expect(snapshotOf(initialChatState)).toBeNull();
    const live = chatReducer(stateWith(conversation('#a', [message(3), message(4)])), {
      type: 'cacheRestored',
      conversations: [conversation('#a', [message(2), message(3)]), conversation('#b', [message(1)])],
    });
    expect(live.conversations['#a']?.messages.map((m) => m.id)).toEqual(['m2', 'm3', 'm4']);
    expect(live.conversations['#b']?.messages.map((m) => m.id)).toEqual(['m1']);
  });
});
