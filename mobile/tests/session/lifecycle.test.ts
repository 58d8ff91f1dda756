/**
 * ArTP/1.1 lifecycle (PROTOCOL.md §14.9-14.14) in the chat session, against a real node: a
 * reply carries its quote, edits, deletes and reactions made elsewhere reach the messages held
 * here, a reaction toggles per user, typing shows and goes, a jump brings a message far back into
 * the timeline (HISTORY around, then the pages between), and after a restart of the app the
 * edits, deletes and reactions made while it was closed show (CHANGES since the newest rev).
 */
import type { ArtpClient } from '../../src/protocol/client';
import { connectClient, uniqueUser } from '../support/client';
import { type SessionHarness, sessionHarness, testDevice, type TestDevice, until } from '../support/session';
import { PASSWORD, channelNamer, realNodeSuite } from '../support/suite';

const QUICKLY = [100, 200, 400];
const suite = realNodeSuite();
const uniqueChannel = channelNamer('l');

async function kei(channel: string): Promise<[ArtpClient, string]> {
  const client = await connectClient(suite.node);
  suite.track(client);
  const name = uniqueUser('kei');
  await client.request({ type: 'AUTH', user: name, password: PASSWORD, register: true });
  await client.request({ type: 'JOIN', channel });
  return [client, name];
}

async function say(client: ArtpClient, channel: string, content: string): Promise<string> {
  const ok = await client.request({ type: 'MSG', dest_type: 'channel', dest: channel, content });
  return ok.msg_id as string;
}

function open(device: TestDevice): SessionHarness {
  const harness = sessionHarness({ reconnectDelaysMs: QUICKLY, device });
  suite.track(harness.session);
  return harness;
}

describe('the lifecycle in the session', () => {
  it('replies with a quote, and sees edits, deletes and reactions made elsewhere', async () => {
    const channel = uniqueChannel();
    const [other, otherName] = await kei(channel);
    const first = await say(other, channel, 'the first plan');
    const second = await say(other, channel, 'the second plan');
    const me = await suite.phone({ reconnectDelaysMs: QUICKLY });
    expect(me.session).toBeDefined();
    await me.session.open('channel', channel);
    const byId = (id: string) => me.said(channel).find((m) => m.id === id);

    await me.session.sendText(channel, 'I like it', first);
    const reply = me.said(channel).at(-1);
    expect(reply).toMatchObject({ status: 'sent', replyTo: first, reply: { from: otherName, content: 'the first plan' } });
    const seen = await other.request({ type: 'HISTORY', dest_type: 'channel', dest: channel, limit: 1 });
    expect(seen.messages?.[0]).toMatchObject({ reply_to: first, reply: { id: first, content: 'the first plan' } });

    await other.request({ type: 'EDIT', msg_id: first, content: 'the better plan' });
    await until('the edit', () => byId(first)?.content === 'the better plan');
    expect(byId(first)?.edited).toEqual(expect.any(Number));
    expect(me.said(channel).at(-1)?.reply?.content).toBe('the better plan'); // the quote follows

    await other.request({ type: 'REACT', msg_id: second, emoji: '🎉' });
    await until('the reaction', () => byId(second)?.reactions?.[0]?.count === 1);
    await me.session.toggleReaction(channel, second, '🎉');
    expect(byId(second)?.reactions).toEqual([{ emoji: '🎉', count: 2, users: [otherName, me.user] }]);
    await me.session.toggleReaction(channel, second, '🎉');
    expect(byId(second)?.reactions).toEqual([{ emoji: '🎉', count: 1, users: [otherName] }]);

    await other.request({ type: 'DELETE', msg_id: first });
    await until('the tombstone', () => byId(first)?.deleted !== undefined);
    expect(byId(first)?.content).toBe('');
    expect(me.said(channel).at(-1)?.reply).toMatchObject({ deleted: true, content: '' });
  });

  it('edits and deletes my own message; the node refuses another\'s with NOT_AUTHOR', async () => {
    const channel = uniqueChannel();
    const [other] = await kei(channel);
    const theirs = await say(other, channel, 'not yours');
    const me = await suite.phone({ reconnectDelaysMs: QUICKLY });
    await me.session.open('channel', channel);
    await me.session.sendText(channel, 'typo hree');
    const mine = me.said(channel).at(-1)?.id as string;
    await me.session.editMessage(channel, mine, 'typo here');
    expect(me.said(channel).at(-1)).toMatchObject({ content: 'typo here', edited: expect.any(Number) });
    await expect(me.session.editMessage(channel, theirs, 'mine now')).rejects.toMatchObject({ code: 'NOT_AUTHOR' });
    await expect(me.session.deleteMessage(channel, theirs)).rejects.toMatchObject({ code: 'NOT_AUTHOR' });
    await me.session.deleteMessage(channel, mine);
    expect(me.said(channel).at(-1)).toMatchObject({ content: '', deleted: expect.any(Number) });
    const history = await other.request({ type: 'HISTORY', dest_type: 'channel', dest: channel, limit: 5 });
    expect(history.messages?.find((m) => m.id === mine)).toMatchObject({ content: '', deleted: expect.any(Number) });
  });

  it('shows who is typing, and stops at typing:false', async () => {
    const channel = uniqueChannel();
    const [other, otherName] = await kei(channel);
    const me = await suite.phone({ reconnectDelaysMs: QUICKLY });
    await me.session.open('channel', channel);
    await other.request({ type: 'TYPING', dest_type: 'channel', dest: channel, typing: true });
    await until('kei typing', () => me.state().typing[channel]?.[0]?.name === otherName);
    await other.request({ type: 'TYPING', dest_type: 'channel', dest: channel, typing: false });
    await until('kei stopped', () => me.state().typing[channel] === undefined);
  });

  it('brings a message 300 back into the timeline with HISTORY around and the pages between', async () => {
    const channel = uniqueChannel();
    const [other] = await kei(channel);
    const old = await say(other, channel, 'the very old one');
    for (let n = 0; n < 300; n += 1) await say(other, channel, `filler ${n}`);
    const me = await suite.phone({ reconnectDelaysMs: QUICKLY });
    await me.session.open('channel', channel);
    expect(me.said(channel).some((m) => m.id === old)).toBe(false);
    expect(await me.session.bringIntoView(channel, old)).toBe(true);
    const ids = me.said(channel).map((m) => m.id);
    expect(ids).toContain(old);
    // One unbroken run from the old message to the newest: every filler once, in order.
    const contents = me.said(channel).map((m) => m.content);
    const from = contents.indexOf('the very old one');
    expect(contents.slice(from + 1)).toEqual(Array.from({ length: 300 }, (_, n) => `filler ${n}`));
    expect(new Set(ids).size).toBe(ids.length);
    await expect(me.session.bringIntoView(channel, '999999999')).resolves.toBe(false);
  });

  it('after a restart, shows the edits, deletes and reactions made while the app was closed (CHANGES)', async () => {
    const channel = uniqueChannel();
    const [other] = await kei(channel);
    const ids = [await say(other, channel, 'one'), await say(other, channel, 'two'), await say(other, channel, 'three')];
    const device = testDevice();
    const first = open(device);
    await first.connectAndTrust(suite.node.wsAddress);
    const user = uniqueUser('app');
    await first.session.login(user, PASSWORD, true);
    await first.session.open('channel', channel);
    expect(first.state().conversations[channel]?.rev).toMatch(/^\d+$/);
    first.session.close(); // the page is closed; the cache keeps the conversation

    await other.request({ type: 'EDIT', msg_id: ids[0] as string, content: 'one, edited' });
    await other.request({ type: 'DELETE', msg_id: ids[1] as string });
    await other.request({ type: 'REACT', msg_id: ids[2] as string, emoji: '👍' });
    await say(other, channel, 'four');

    const again = open(device);
    expect(await again.session.resume()).toEqual({ kind: 'signed-in' });
    const said = again.said(channel);
    expect(said.map((m) => [m.content, m.edited !== undefined, m.deleted !== undefined])).toEqual([
      ['one, edited', true, false],
      ['', false, true],
      ['three', false, false],
      ['four', false, false],
    ]);
    expect(said[2]?.reactions).toEqual([{ emoji: '👍', count: 1, users: [expect.any(String)] }]);
  });
});
