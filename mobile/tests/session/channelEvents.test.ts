/**
 * JOIN, PART and TOPIC events (PROTOCOL.md §7) against a real node, with two sessions of one
 * user (the phone and another device) and another user: lines in the chat, members and topic
 * kept up to date, and a channel left on the other device gone from the phone's list.
 */
import type { ArtpClient } from '../../src/protocol/client';
import { messageIds } from '../../src/state/conversations';
import { connectClient, registeredClient } from '../support/client';
import { PASSWORD, channelNamer, realNodeSuite } from '../support/suite';
import { type SessionHarness, until } from '../support/session';

const QUICKLY = [100, 200, 400];

const suite = realNodeSuite();

const uniqueChannel = channelNamer('ev');

const phone = () => suite.phone({ reconnectDelaysMs: QUICKLY });

async function otherDevice(user: string): Promise<ArtpClient> {
  const client = await connectClient(suite.node);
  suite.track(client);
  await client.request({ type: 'AUTH', user, password: PASSWORD });
  return client;
}

function lines(harness: SessionHarness, channel: string): string[] {
  return harness.messages(channel).map((m) => (m.system ? `${m.system} ${m.from} ${m.content}`.trim() : `${m.from}: ${m.content}`));
}

describe('channel events on the phone', () => {
  it('shows joins, parts and topic changes as lines and keeps members and topic current', async () => {
    const channel = uniqueChannel();
    const me = await phone();
    await me.session.open('channel', channel);
    expect(me.state().conversations[channel]).toMatchObject({ topic: '', members: [me.user] });

    const [kei, keiName] = await registeredClient(suite.node, 'kei');
    suite.track(kei);
    await kei.request({ type: 'JOIN', channel });
    await until('the join', () => (me.state().conversations[channel]?.members ?? []).includes(keiName));
    await kei.request({ type: 'TOPIC', channel, topic: 'exams on friday' });
    await kei.request({ type: 'MSG', dest_type: 'channel', dest: channel, content: '/me waves' });
    await kei.request({ type: 'PART', channel });
    await until('the part', () => me.messages(channel).length === 4);

    expect(lines(me, channel)).toEqual([`join ${keiName}`, `topic ${keiName} exams on friday`, `${keiName}: /me waves`, `part ${keiName}`]);
    expect(me.state().conversations[channel]).toMatchObject({ topic: 'exams on friday', members: [me.user], unread: 0 });
  });

  it('reconnects and catches up from the last message, never from a PART line', async () => {
    const channel = uniqueChannel();
    const me = await phone();
    await me.session.open('channel', channel);
    const [kei] = await registeredClient(suite.node, 'kei');
    suite.track(kei);
    await kei.request({ type: 'JOIN', channel });
    const said = await kei.request({ type: 'MSG', dest_type: 'channel', dest: channel, content: 'bye' });
    await kei.request({ type: 'PART', channel });
    await until('the part', () => me.messages(channel).at(-1)?.system === 'part');

    const dropped = me.transport();
    dropped.close();
    // §5: a PART event's id names no position; HISTORY would refuse it (INVALID) and the
    // reconnect would fail over and over.
    await until('a new connection, online', () => me.transport() !== dropped && me.state().link === 'online');
    const conversation = me.state().conversations[channel];
    expect(conversation && messageIds(conversation)).toEqual([said.msg_id]);
  });

  it('follows what my other device joins and leaves', async () => {
    const [stays, leaves, joins] = [uniqueChannel(), uniqueChannel(), uniqueChannel()];
    const me = await phone();
    await me.session.open('channel', stays);
    await me.session.open('channel', leaves);
    me.session.closeConversation();
    const tablet = await otherDevice(me.user);

    await tablet.request({ type: 'JOIN', channel: joins });
    await until('the channel joined on the tablet', () => me.state().conversations[joins] !== undefined);
    await tablet.request({ type: 'PART', channel: leaves });
    await until('the channel left on the tablet to go', () => me.state().conversations[leaves] === undefined);
    expect(Object.keys(me.state().conversations).sort()).toEqual([joins, stays].sort());

    await me.session.open('channel', joins);
    expect(me.state().conversations[joins]?.members).toEqual([me.user]);
  });
});
