import type { JoinEvent, MsgEvent, PartEvent, TopicEvent } from '../../src/protocol/messages';
import { type ChatState, chatReducer, initialChatState } from '../../src/state/chat';
import { messageIds, sortedConversations } from '../../src/state/conversations';

const msg = (id: string, from: string, dest: string, timestamp = 1, dest_type: 'channel' | 'user' = 'channel'): MsgEvent => ({
  type: 'MSG', id, from, dest_type, dest, content: `text ${id}`, timestamp,
});

const loggedIn = (): ChatState => chatReducer(initialChatState, { type: 'loggedIn', user: 'sensei', channels: ['#general'] });

describe('chatReducer', () => {
  it('lists the channels the user is a member of after login', () => {
    expect(Object.keys(loggedIn().conversations)).toEqual(['#general']);
  });

  it('counts unread messages in conversations that are not open', () => {
    let state = loggedIn();
    state = chatReducer(state, { type: 'messageReceived', message: msg('1', 'arona', '#general') });
    state = chatReducer(state, { type: 'messageReceived', message: msg('2', 'arona', '#general') });
    expect(state.conversations['#general']?.unread).toBe(2);
    state = chatReducer(state, { type: 'conversationOpened', destType: 'channel', dest: '#general' });
    expect(state.conversations['#general']?.unread).toBe(0);
  });

  it('files a direct message under the other user, from either side', () => {
    let state = loggedIn();
    state = chatReducer(state, { type: 'messageReceived', message: msg('1', 'Arona', 'sensei', 1, 'user') });
    state = chatReducer(state, { type: 'messageReceived', message: msg('2', 'sensei', 'Arona', 2, 'user') });
    expect(state.conversations['@arona']?.messages.map((m) => m.id)).toEqual(['1', '2']);
  });

  it('keeps one copy of a message seen live and again in history', () => {
    let state = loggedIn();
    state = chatReducer(state, { type: 'messageReceived', message: msg('1', 'arona', '#general') });
    state = chatReducer(state, { type: 'historyLoaded', key: '#general', messages: [msg('1', 'arona', '#general')], older: false });
    expect(state.conversations['#general']?.messages).toHaveLength(1);
  });

  it('puts older history before what is shown, and reaches the start only at an empty page', () => {
    let state = loggedIn();
    state = chatReducer(state, { type: 'messageReceived', message: msg('5', 'arona', '#general', 5) });
    // A short page is not the end: the node trims pages to fit one frame (PROTOCOL.md §6).
    state = chatReducer(state, { type: 'historyLoaded', key: '#general', messages: [msg('3', 'a', '#general', 3), msg('4', 'a', '#general', 4)], older: true });
    expect(state.conversations['#general']?.messages.map((m) => m.id)).toEqual(['3', '4', '5']);
    expect(state.conversations['#general']?.reachedStart).toBe(false);
    state = chatReducer(state, { type: 'historyLoaded', key: '#general', messages: [], older: true });
    expect(state.conversations['#general']?.reachedStart).toBe(true);
  });

  it('moves a sent message from pending to sent with the node id, or to failed', () => {
    let state = loggedIn();
    state = chatReducer(state, { type: 'sendStarted', key: '#general', destType: 'channel', dest: '#general', localKey: 'local:1', cid: 'c1', content: 'hi', timestamp: 1 });
    state = chatReducer(state, { type: 'sendStarted', key: '#general', destType: 'channel', dest: '#general', localKey: 'local:2', cid: 'c2', content: 'yo', timestamp: 1 });
    expect(state.conversations['#general']?.messages.map((m) => m.status)).toEqual(['pending', 'pending']);
    state = chatReducer(state, { type: 'sendSucceeded', key: '#general', localKey: 'local:1', id: 'm9', timestamp: 7 });
    state = chatReducer(state, { type: 'sendFailed', key: '#general', localKey: 'local:2', error: { code: 'RATE_LIMITED', message: 'slow down' } });
    const [first, second] = state.conversations['#general']?.messages ?? [];
    expect(first).toMatchObject({ id: 'm9', status: 'sent', timestamp: 7 });
    expect(second).toMatchObject({ status: 'failed', error: { code: 'RATE_LIMITED' } });
  });

  it('forgets the failure when a message is retried', () => {
    let state = loggedIn();
    state = chatReducer(state, { type: 'sendStarted', key: '#general', destType: 'channel', dest: '#general', localKey: 'local:1', cid: 'c1', content: 'hi', timestamp: 1 });
    state = chatReducer(state, { type: 'sendFailed', key: '#general', localKey: 'local:1', error: { code: 'NO_SUCH_USER', message: 'x' } });
    state = chatReducer(state, { type: 'sendRetried', key: '#general', localKey: 'local:1' });
    expect(state.conversations['#general']?.messages[0]).toMatchObject({ status: 'pending', error: undefined });
  });

  it('puts a catch-up page right after its anchor, before live messages that overtook it', () => {
    let state = loggedIn();
    state = chatReducer(state, { type: 'messageReceived', message: msg('a', 'arona', '#general', 1) });
    state = chatReducer(state, { type: 'sendStarted', key: '#general', destType: 'channel', dest: '#general', localKey: 'local:1', cid: 'c1', content: 'mine', timestamp: 2 });
    state = chatReducer(state, { type: 'messageReceived', message: msg('live', 'arona', '#general', 5) });
    const page = [msg('b', 'arona', '#general', 3), msg('c', 'arona', '#general', 4)];
    state = chatReducer(state, { type: 'historyLoaded', key: '#general', messages: page, older: false, after: 'a' });
    state = chatReducer(state, { type: 'historyLoaded', key: '#general', messages: [msg('live', 'arona', '#general', 5)], older: false, after: 'c' });
    expect(state.conversations['#general']?.messages.map((m) => m.key)).toEqual(['a', 'b', 'c', 'live', 'local:1']);
  });

  it('keeps the reason reconnecting stopped until the link changes again', () => {
    let state = loggedIn();
    state = chatReducer(state, { type: 'linkChanged', link: 'offline', problem: { kind: 'signInRefused' } });
    expect(state).toMatchObject({ link: 'offline', linkProblem: { kind: 'signInRefused' } });
    state = chatReducer(state, { type: 'linkChanged', link: 'online' });
    expect(state.linkProblem).toBeNull();
  });

  it('sorts conversations by their latest message', () => {
    let state = loggedIn();
    state = chatReducer(state, { type: 'messageReceived', message: msg('1', 'arona', '#general', 1) });
    state = chatReducer(state, { type: 'messageReceived', message: msg('2', 'arona', 'sensei', 9, 'user') });
    expect(sortedConversations(state).map((c) => c.key)).toEqual(['@arona', '#general']);
  });

  it('drops, at a new login, the channels the user left on another device while away', () => {
    let state = chatReducer(loggedIn(), { type: 'conversationOpened', destType: 'channel', dest: '#general' });
    state = chatReducer(state, { type: 'messageReceived', message: msg('1', 'arona', 'sensei', 1, 'user') });
    state = chatReducer(state, { type: 'loggedIn', user: 'sensei', channels: ['#club'] });
    expect(Object.keys(state.conversations).sort()).toEqual(['#club', '@arona']);
    expect(state.active).toBeNull();
  });
});

const channelEvent = (type: 'JOIN' | 'PART', id: string, from: string): JoinEvent | PartEvent => ({
  type, id, from, channel: '#general', timestamp: 10,
});
const topicEvent = (id: string, from: string, topic: string): TopicEvent => ({
  type: 'TOPIC', id, from, channel: '#general', topic, timestamp: 11,
});

describe('chatReducer with JOIN, PART and TOPIC events', () => {
  const joined = (): ChatState =>
    chatReducer(loggedIn(), { type: 'channelJoined', channel: '#general', topic: 'homework', members: ['sensei', 'Arona'] });

  it('keeps the members and topic from the JOIN reply, sorted case-insensitively', () => {
    expect(joined().conversations['#general']).toMatchObject({ topic: 'homework', members: ['Arona', 'sensei'] });
  });

  it('shows a join as a line and adds the member; a part removes them', () => {
    let state = chatReducer(joined(), { type: 'channelEvent', event: channelEvent('JOIN', 'e1', 'kei') });
    expect(state.conversations['#general']?.members).toEqual(['Arona', 'kei', 'sensei']);
    state = chatReducer(state, { type: 'channelEvent', event: channelEvent('PART', 'e2', 'Arona') });
    expect(state.conversations['#general']?.members).toEqual(['kei', 'sensei']);
    expect(state.conversations['#general']?.messages.map((m) => [m.system, m.from])).toEqual([['join', 'kei'], ['part', 'Arona']]);
    expect(state.conversations['#general']?.unread).toBe(0);
  });

  it('updates the topic and shows who set it', () => {
    const state = chatReducer(joined(), { type: 'channelEvent', event: topicEvent('e3', 'kei', 'exams on friday') });
    expect(state.conversations['#general']?.topic).toBe('exams on friday');
    expect(state.conversations['#general']?.messages.at(-1)).toMatchObject({ system: 'topic', from: 'kei', content: 'exams on friday' });
  });

  it('removes the conversation when my own other session parts the channel', () => {
    let state = chatReducer(joined(), { type: 'conversationOpened', destType: 'channel', dest: '#general' });
    state = chatReducer(state, { type: 'channelEvent', event: channelEvent('PART', 'e4', 'SENSEI') });
    expect(state.conversations['#general']).toBeUndefined();
    expect(state.active).toBeNull();
  });

  it('adds a channel my other session joined', () => {
    const state = chatReducer(loggedIn(), { type: 'channelEvent', event: { ...channelEvent('JOIN', 'e5', 'sensei'), channel: '#club' } });
    expect(state.conversations['#club']?.messages.map((m) => m.system)).toEqual(['join']);
  });

  it('never offers a system line id as a history anchor, and pages after the lines seen before', () => {
    let state = chatReducer(joined(), { type: 'messageReceived', message: msg('7', 'arona', '#general', 1) });
    state = chatReducer(state, { type: 'channelEvent', event: channelEvent('JOIN', 'e6', 'kei') });
    const conversation = state.conversations['#general'];
    expect(conversation && messageIds(conversation)).toEqual(['7']);
    state = chatReducer(state, { type: 'historyLoaded', key: '#general', messages: [msg('8', 'kei', '#general', 12)], older: false, after: '7' });
    expect(state.conversations['#general']?.messages.map((m) => m.key)).toEqual(['7', 'e6', '8']);
  });
});
