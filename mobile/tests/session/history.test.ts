/**
 * History paging against a real node whose pages are trimmed to fit one frame (PROTOCOL.md §6:
 * "A reply may hold fewer than `limit` messages although more exist ... a client pages on ...
 * until it gets an empty list"). Messages of 3,900 characters make a 50-message page far
 * larger than 65,519 bytes, so every page the node sends here is a trimmed one.
 */
import type { ArtpClient } from '../../src/protocol/client';
import { messageIds } from '../../src/state/conversations';
import { connectClient, registeredClient } from '../support/client';
import { channelNamer, realNodeSuite } from '../support/suite';
import { type SessionHarness, until } from '../support/session';

const LONG_MESSAGES = 60;
const ONLY_WHEN_TOLD = [600_000];

const suite = realNodeSuite();

const uniqueChannel = channelNamer('h');

const phone = () => suite.phone({ reconnectDelaysMs: ONLY_WHEN_TOLD });

async function member(channel: string): Promise<[ArtpClient, string]> {
  const [client, user] = await registeredClient(suite.node, 'kei');
  suite.track(client);
  await client.request({ type: 'JOIN', channel });
  return [client, user];
}

/** Say `count` messages of 3,900 characters, each distinct; returns their ids, oldest first. */
async function sayLong(client: ArtpClient, channel: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const content = `${i} `.padEnd(3900, 'アロナ'.charAt(i % 3));
    const ok = await client.request({ type: 'MSG', dest_type: 'channel', dest: channel, content });
    ids.push(ok.msg_id as string);
  }
  return ids;
}

function shownIds(harness: SessionHarness, channel: string): string[] {
  const conversation = harness.state().conversations[channel];
  return conversation ? messageIds(conversation) : [];
}

describe('history paging when the node trims pages to one frame', () => {
  it('catches up every message after a reconnect, paging until an empty page', async () => {
    const channel = uniqueChannel();
    const me = await phone();
    await me.session.open('channel', channel);
    const [kei, keiName] = await member(channel);
    const anchor = await kei.request({ type: 'MSG', dest_type: 'channel', dest: channel, content: 'anchor' });
    await until('the anchor', () => shownIds(me, channel).length === 1);

    await suite.node.halt();
    await until('the session to notice', () => me.state().link === 'offline');
    await suite.node.resume();
    const keiAgain = await connectClient(suite.node);
    suite.track(keiAgain);
    await keiAgain.request({ type: 'AUTH', user: keiName, password: 'correct horse battery' });
    const missed = await sayLong(keiAgain, channel, LONG_MESSAGES);
    const firstPage = await keiAgain.request({ type: 'HISTORY', dest_type: 'channel', dest: channel, after: anchor.msg_id, limit: 200 });
    expect(firstPage.messages?.length).toBeLessThan(LONG_MESSAGES); // the premise: the node trims

    me.session.networkAvailable();
    await until('the session to be back online', () => me.state().link === 'online');
    expect(shownIds(me, channel)).toEqual([anchor.msg_id, ...missed]);
  });

  it('scrolls back to the true start of the channel, and only then says it is the beginning', async () => {
    const channel = uniqueChannel();
    const [kei] = await member(channel);
    const said = await sayLong(kei, channel, LONG_MESSAGES);
    const me = await phone();
    await me.session.open('channel', channel);
    const latest = shownIds(me, channel);
    expect(latest.length).toBeLessThan(LONG_MESSAGES); // a trimmed first page, not the beginning
    expect(me.state().conversations[channel]?.reachedStart).toBe(false);

    for (let pages = 0; pages < LONG_MESSAGES && !me.state().conversations[channel]?.reachedStart; pages++) {
      await me.session.loadOlder(channel);
    }
    expect(shownIds(me, channel)).toEqual(said);
    expect(me.state().conversations[channel]?.reachedStart).toBe(true);
  });
});
