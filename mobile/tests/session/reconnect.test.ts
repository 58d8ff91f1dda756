/**
 * The chat session against a real node that the tests stop and start again (same data
 * directory, same ports): reconnecting with backoff, logging in again, catching up with
 * HISTORY after the last id seen, settling messages that were on the wire, and the outbox.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ArtpClient } from '../../src/protocol/client';
import { connectClient, registeredClient, uniqueUser } from '../support/client';
import { PASSWORD, channelNamer, realNodeSuite } from '../support/suite';
import { until } from '../support/session';

/** Long enough that only `networkAvailable()` brings the session back. */
const ONLY_WHEN_TOLD = [600_000];
const QUICKLY = [100, 200, 400];

const suite = realNodeSuite();

const uniqueChannel = channelNamer('r');

const phone = suite.phone;

async function login(user: string): Promise<ArtpClient> {
  const client = await connectClient(suite.node);
  suite.track(client);
  await client.request({ type: 'AUTH', user, password: PASSWORD });
  return client;
}

async function member(channel: string): Promise<[ArtpClient, string]> {
  const [client, user] = await registeredClient(suite.node, 'kei');
  suite.track(client);
  await client.request({ type: 'JOIN', channel });
  return [client, user];
}

async function say(client: ArtpClient, channel: string, content: string): Promise<void> {
  await client.request({ type: 'MSG', dest_type: 'channel', dest: channel, content });
}

async function nodeHistory(client: ArtpClient, channel: string) {
  const ok = await client.request({ type: 'HISTORY', dest_type: 'channel', dest: channel, limit: 200 });
  return ok.messages ?? [];
}

async function restartNode(during?: () => Promise<void>): Promise<void> {
  await suite.node.halt();
  await during?.();
  await suite.node.resume();
}

describe('the chat session when the node restarts', () => {
  it('catches up every conversation after the last id seen: no gap, no duplicate, the node order', async () => {
    const channel = uniqueChannel();
    const me = await phone({ reconnectDelaysMs: ONLY_WHEN_TOLD, catchUpPage: 3 });
    await me.session.open('channel', channel);
    const [kei, keiName] = await member(channel);
    await say(kei, channel, 'one');
    await say(kei, channel, 'two');
    await until('the live messages', () => me.said(channel).length === 2);

    await restartNode(async () => {
      await until('the session to notice', () => me.state().link === 'offline');
      await me.session.sendText(channel, 'typed while away');
      expect(me.said(channel).at(-1)).toMatchObject({ content: 'typed while away', status: 'pending' });
    });
    const keiAgain = await login(keiName);
    for (let i = 1; i <= 7; i++) await say(keiAgain, channel, `missed ${i}`); // three catch-up pages of 3

    me.session.networkAvailable();
    await until('the session to be back online', () => me.state().link === 'online');
    const stored = await nodeHistory(keiAgain, channel);
    expect(me.said(channel).map((m) => m.id)).toEqual(stored.map((m) => m.id));
    expect(me.said(channel).map((m) => m.content)).toEqual([
      'one', 'two', 'missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5', 'missed 6', 'missed 7', 'typed while away',
    ]);
    expect(me.said(channel).every((m) => m.status === 'sent')).toBe(true);
  });

  it('reconnects by itself with backoff, logs in again and receives live messages', async () => {
    const channel = uniqueChannel();
    const me = await phone({ reconnectDelaysMs: QUICKLY });
    await me.session.open('channel', channel);
    const [, keiName] = await member(channel);
    const links: string[] = [];
    await restartNode(async () => {
      await until('the session to notice', () => me.state().link !== 'online');
      links.push(me.state().link);
    });
    await until('the session to be back online', () => me.state().link === 'online');
    expect(links).toEqual(['offline']);
    await say(await login(keiName), channel, 'welcome back');
    await until('the live message after the reconnect', () => me.said(channel).some((m) => m.content === 'welcome back'));
  });
});

describe('the chat session when the link drops', () => {
  it('settles a message that was on the wire when the link dropped: the node has it once', async () => {
    const channel = uniqueChannel();
    const me = await phone({ reconnectDelaysMs: QUICKLY });
    await me.session.open('channel', channel);
    const [kei] = await member(channel);
    await say(kei, channel, 'anchor');
    await until('the anchor', () => me.said(channel).length === 1);

    me.transport().cutAfterNextSend = true;
    await me.session.sendText(channel, 'on the wire');
    await until('the message to be settled', () => me.said(channel).at(-1)?.status === 'sent');
    await until('the session to be back online', () => me.state().link === 'online');

    const stored = await nodeHistory(kei, channel);
    expect(stored.filter((m) => m.content === 'on the wire')).toHaveLength(1);
    expect(me.said(channel).map((m) => m.id)).toEqual(stored.map((m) => m.id));
  });

  it('stops retrying and says why when the node comes back with another key', async () => {
    const me = await phone({ reconnectDelaysMs: QUICKLY });
    await restartNode(async () => fs.rmSync(path.join(suite.node.dataDir, 'node.key')));
    await until('the session to give up', () => me.state().linkProblem !== null);
    expect(me.state().link).toBe('offline');
    expect(me.state().linkProblem).toMatchObject({ kind: 'keyChanged', address: suite.node.wsAddress });
  });
});

describe('failed sends', () => {
  it('marks a message the node refuses as failed with its code, and sends it when retried', async () => {
    const me = await phone({ reconnectDelaysMs: QUICKLY });
    const ghost = uniqueUser('ghost');
    const key = `@${ghost.toLowerCase()}`;
    // Opening a DM to nobody is refused and leaves no conversation behind (issue 12)...
    await expect(me.session.open('user', ghost)).rejects.toMatchObject({ code: 'NO_SUCH_USER' });
    expect(me.state().conversations[key]).toBeUndefined();
    // ...but a conversation whose user is gone (or not yet there) refuses each message.
    me.dispatch({ type: 'conversationOpened', destType: 'user', dest: ghost });
    await me.session.sendText(key, 'are you there?');
    const failed = me.messages(key).at(-1);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'NO_SUCH_USER' } });

    const created = await connectClient(suite.node);
    suite.track(created);
    await created.request({ type: 'AUTH', user: ghost, password: PASSWORD, register: true });
    await me.session.retry(key, failed?.key as string);
    expect(me.messages(key).at(-1)).toMatchObject({ status: 'sent', error: undefined });
    const history = await created.request({ type: 'HISTORY', dest_type: 'user', dest: me.user, limit: 10 });
    expect(history.messages?.map((m) => m.content)).toEqual(['are you there?']);
  });
});
