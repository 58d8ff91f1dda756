/**
 * ArTP/1.1 sync (PROTOCOL.md §14.3–14.6) in the chat session, against a real node: a device
 * signs in once with its password and then with its key alone (across a restart of the app),
 * sends every message with a client id so a resend is never posted twice, lists every
 * conversation (DMs that began while it was away included) with unread and mention counts,
 * keeps read markers in step with the user's other devices, and keeps its outbox across a
 * restart of the app while the node is down, sending it exactly once, in order.
 */
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';

import type { ArtpClient } from '../../src/protocol/client';
import { webCryptoStaticKey } from '../../src/protocol/staticKey';
import { connectClient, registeredClient, uniqueUser } from '../support/client';
import { PYTHON } from '../support/paths';
import { type SessionHarness, sessionHarness, type TestDevice, testDevice, until } from '../support/session';
import { PASSWORD, channelNamer, realNodeSuite } from '../support/suite';

const QUICKLY = [100, 200, 400];
const suite = realNodeSuite();
const uniqueChannel = channelNamer('s');

/** A harness on `device`, closed after the test (a second one on the same device is a restart). */
function open(device: TestDevice): SessionHarness {
  const harness = sessionHarness({ reconnectDelaysMs: QUICKLY, device });
  suite.track(harness.session);
  return harness;
}

/** Register `user` from a fresh app on `device`. */
async function registered(device: TestDevice, user = uniqueUser('dev')): Promise<SessionHarness & { user: string }> {
  const app = open(device);
  await app.session.connect(suite.node.wsAddress);
  await app.session.login(user, PASSWORD, true);
  return { ...app, user };
}

async function python(user: string, register = false): Promise<ArtpClient> {
  const client = await connectClient(suite.node);
  suite.track(client);
  await client.request({ type: 'AUTH', user, password: PASSWORD, ...(register ? { register } : {}) });
  return client;
}

/**
 * On `device`, a new account types `texts` into a fresh channel while the node is down; then
 * the app is closed (a page reload). Returns the account and the channel.
 */
async function typedWhileNodeDown(device: TestDevice, texts: readonly string[]): Promise<{ user: string; channel: string }> {
  const me = await registered(device);
  const channel = uniqueChannel();
  await me.session.open('channel', channel);
  await suite.node.halt();
  await until('the session to notice', () => me.state().link === 'offline');
  for (const text of texts) await me.session.sendText(channel, text);
  me.session.close();
  return { user: me.user, channel };
}

async function webCryptoDevice(): Promise<TestDevice> {
  const subtle = webcrypto.subtle as unknown as SubtleCrypto;
  const pair = (await subtle.generateKey({ name: 'X25519' }, false, ['deriveBits'])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  return testDevice(webCryptoStaticKey(subtle, pair.privateKey, publicKey));
}

describe('devices (§14.3)', () => {
  it('signs in again after a restart of the app with the device key alone, a non-extractable WebCrypto key', async () => {
    const device = await webCryptoDevice();
    const first = await registered(device);
    expect(first.session.currentDevice).toMatch(/^SHA256:/);
    first.session.close();

    const again = open(device);
    expect(await again.session.resume()).toEqual({ kind: 'signed-in' });
    expect(again.state()).toMatchObject({ user: first.user, link: 'online' });
    expect(again.session.currentDevice).toBe(first.session.currentDevice);
  });

  it('lists, renames and revokes devices; a revoked device needs the password again', async () => {
    const laptop = testDevice();
    const phone = testDevice();
    const me = await registered(laptop);
    const other = open(phone);
    await other.session.connect(suite.node.wsAddress);
    await other.session.login(me.user, PASSWORD, false);

    const devices = await me.session.devices();
    expect(devices).toHaveLength(2);
    const mine = devices.find((d) => d.current);
    const theirs = devices.find((d) => !d.current);
    expect(mine?.id).toBe(me.session.currentDevice);
    expect(mine).toMatchObject({ name: 'session test device', address: expect.stringContaining('127.0.0.1') });
    expect(await me.session.renameDevice(theirs?.id ?? '', 'old phone')).toBe('old phone');
    expect((await me.session.devices()).find((d) => d.id === theirs?.id)?.name).toBe('old phone');

    await me.session.revokeDevice(theirs?.id ?? '');
    await until('the revoked device to drop its link', () => other.state().link !== 'online');
    await until('the revoked device to give up', () => other.state().linkProblem?.kind === 'signInRefused');
    const prompt = await other.session.passwordLogin(); // "log in again" on the running app
    expect(prompt).toMatchObject({ user: me.user, address: suite.node.wsAddress });
    expect(other.state().user).toBeNull();
    await other.session.login(me.user, PASSWORD, false);
    expect(other.state()).toMatchObject({ user: me.user, link: 'online', linkProblem: null });
    await me.session.revokeDevice(other.session.currentDevice ?? '');
    await until('the device to be refused again', () => other.state().linkProblem?.kind === 'signInRefused');

    other.session.close();
    const restarted = open(phone);
    const resumed = await restarted.session.resume();
    expect(resumed).toMatchObject({ kind: 'needs-password', user: me.user });
    expect(restarted.state().user).toBeNull();
    await restarted.session.login(me.user, PASSWORD, false); // the password brings it back
    expect(restarted.state().user).toBe(me.user);
  });

  it('changes the password, which signs every other device out', async () => {
    const me = await registered(testDevice());
    const other = await (async () => {
      const app = open(testDevice());
      await app.session.connect(suite.node.wsAddress);
      await app.session.login(me.user, PASSWORD, false);
      return app;
    })();
    await expect(me.session.changePassword('wrong password', 'a new password')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await me.session.changePassword(PASSWORD, 'a new password');
    await until('the other device to be refused', () => other.state().linkProblem?.kind === 'signInRefused');
    expect(me.state().link).toBe('online');
  });

  it('logs in with a reset token (§14.21) as the new password, once; every other device is signed out', async () => {
    const me = await registered(testDevice());
    const printed = execFileSync(PYTHON, ['-m', 'aronanet.cli', 'admin', '--data-dir', suite.node.dataDir, 'reset-password', me.user], { encoding: 'utf8' });
    const token = printed.trim().split('\n').at(-1) ?? '';
    const forgetful = open(testDevice());
    await forgetful.session.connect(suite.node.wsAddress);
    await forgetful.session.login(me.user, 'a brand new horse', false, { reset: token });
    expect(forgetful.state().user).toBe(me.user);
    await until('the old device to be refused', () => me.state().linkProblem?.kind === 'signInRefused');
    await expect(python(me.user)).rejects.toMatchObject({ code: 'AUTH_FAILED' }); // the old password
    const again = open(testDevice());
    await again.session.connect(suite.node.wsAddress);
    await expect(again.session.login(me.user, 'yet another horse', false, { reset: token })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('logs out: forgets the account, and with revoke the key no longer signs in', async () => {
    const device = testDevice();
    const me = await registered(device);
    await me.session.logout({ revoke: true });
    expect(me.state().user).toBeNull();
    const again = open(device);
    expect(await again.session.resume()).toEqual({ kind: 'none' });
    // The same key, signing in without the password, is refused.
    const sameKey = suite.track(await connectClient(suite.node, undefined, device.key));
    await expect(sameKey.request({ type: 'AUTH', user: me.user })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });
});

describe('exactly-once sending (§14.4)', () => {
  it('sends two identical texts as two messages, each with its own client id', async () => {
    const me = await registered(testDevice());
    const channel = uniqueChannel();
    await me.session.open('channel', channel);
    await me.session.sendText(channel, 'ok');
    await me.session.sendText(channel, 'ok');
    const stored = (await (await python(me.user)).request({ type: 'HISTORY', dest_type: 'channel', dest: channel })).messages ?? [];
    expect(stored.map((m) => m.content)).toEqual(['ok', 'ok']);
    expect(new Set(stored.map((m) => m.cid)).size).toBe(2);
    expect(me.said(channel).map((m) => m.status)).toEqual(['sent', 'sent']);
  });

  it('resends a message whose OK was lost with the same cid: one message on the node', async () => {
    const me = await registered(testDevice());
    const channel = uniqueChannel();
    await me.session.open('channel', channel);
    me.transport().cutAfterNextSend = true; // the MSG leaves, the link drops before its OK
    await me.session.sendText(channel, 'ok');
    await until('the reconnect and resend', () => me.said(channel).at(-1)?.status === 'sent' && me.state().link === 'online');
    const stored = (await (await python(me.user)).request({ type: 'HISTORY', dest_type: 'channel', dest: channel })).messages ?? [];
    expect(stored.map((m) => m.content)).toEqual(['ok']);
    expect(me.said(channel).map((m) => m.id)).toEqual(stored.map((m) => m.id));
  });
});

describe('conversations and read markers (§14.5, §14.6)', () => {
  it('lists every conversation on sign-in, DMs that began while away included, with unread and mentions', async () => {
    const device = testDevice();
    const me = await registered(device);
    me.session.close();
    const [kei, keiName] = await registeredClient(suite.node, 'kei');
    suite.track(kei);
    await kei.request({ type: 'MSG', dest_type: 'user', dest: me.user, content: 'are you there?' });
    await kei.request({ type: 'MSG', dest_type: 'user', dest: me.user, content: `@${me.user} lunch?` });

    const fresh = open(testDevice()); // a new device sees them at once
    await fresh.session.connect(suite.node.wsAddress);
    await fresh.session.login(me.user, PASSWORD, false);
    const dm = fresh.state().conversations[`@${keiName.toLowerCase()}`];
    expect(dm).toMatchObject({ destType: 'user', unread: 2, mentions: 1 });
    expect(dm?.messages.map((m) => m.content)).toEqual(['are you there?', `@${me.user} lunch?`]);
  });

  it('marks a conversation read on the node, and another device of the user clears its count', async () => {
    const me = await registered(testDevice());
    const other = open(testDevice());
    await other.session.connect(suite.node.wsAddress);
    await other.session.login(me.user, PASSWORD, false);
    const [kei, keiName] = await registeredClient(suite.node, 'kei');
    suite.track(kei);
    const key = `@${keiName.toLowerCase()}`;
    const sent = await kei.request({ type: 'MSG', dest_type: 'user', dest: me.user, content: 'hello' });
    await until('both devices to count it', () => me.state().conversations[key]?.unread === 1 && other.state().conversations[key]?.unread === 1);

    await me.session.open('user', keiName);
    await me.session.markRead(key);
    expect(me.state().conversations[key]?.read).toBe(sent.msg_id);
    await until('the other device to clear the count', () => other.state().conversations[key]?.unread === 0);
    expect(other.state().conversations[key]?.read).toBe(sent.msg_id);

    const listed = await (await python(me.user)).request({ type: 'CONVERSATIONS' });
    expect(listed.conversations?.find((c) => c.dest.toLowerCase() === keiName.toLowerCase())).toMatchObject({ unread: 0, read: sent.msg_id });
  });
});

describe('the conversations kept on the device (issue 12)', () => {
  const LIMITS = { messagesPerConversation: 5, totalChars: 1_000_000 };

  it('opens with the node down showing the list, counts and latest messages; after it, nothing twice', async () => {
    const device = testDevice();
    const first = sessionHarness({ reconnectDelaysMs: QUICKLY, device, cacheLimits: LIMITS });
    suite.track(first.session);
    await first.connectAndTrust(suite.node.wsAddress);
    const user = uniqueUser('cache');
    await first.session.login(user, PASSWORD, true);
    const channel = uniqueChannel();
    await first.session.open('channel', channel);
    first.session.closeConversation();
    const [kei] = await registeredClient(suite.node, 'kei');
    suite.track(kei);
    await kei.request({ type: 'JOIN', channel });
    const lines = Array.from({ length: 7 }, (_, n) => (n === 5 ? `@${user} line ${n + 1}` : `line ${n + 1}`));
    for (const content of lines) await kei.request({ type: 'MSG', dest_type: 'channel', dest: channel, content });
    await until('all 7 to arrive', () => first.said(channel).length === 7);
    while ((await cachedContents(device, channel)).length !== 5) await new Promise((resolve) => setTimeout(resolve, 25)); // jest's timeout bounds it
    first.session.close();
    for (const content of ['line 8', 'line 9']) await kei.request({ type: 'MSG', dest_type: 'channel', dest: channel, content });
    await suite.node.halt();

    const reloaded = sessionHarness({ reconnectDelaysMs: QUICKLY, device, cacheLimits: LIMITS });
    suite.track(reloaded.session);
    expect(await reloaded.session.resume()).toEqual({ kind: 'offline' });
    expect(reloaded.state().conversations[channel]).toMatchObject({ unread: 7, mentions: 1, reachedStart: false });
    expect(reloaded.said(channel).map((m) => m.content)).toEqual(lines.slice(2)); // the newest 5
    await reloaded.session.open('channel', channel); // offline: read-only, from the device
    expect(reloaded.state().active).toBe(channel);
    await reloaded.session.sendText(channel, 'typed offline');

    await suite.node.resume();
    await until('the catch-up and the outbox', () => reloaded.said(channel).at(-1)?.status === 'sent', 30_000);
    const stored = (await (await python(user)).request({ type: 'HISTORY', dest_type: 'channel', dest: channel })).messages ?? [];
    expect(reloaded.said(channel).map((m) => m.id)).toEqual(stored.slice(2).map((m) => m.id)); // each once, in order
    expect(reloaded.said(channel).map((m) => m.content)).toEqual([...lines.slice(2), 'line 8', 'line 9', 'typed offline']);

    await reloaded.session.logout();
    expect(await device.conversations.load()).toBeNull(); // forgotten on logout
  });

  it('reads a conversation only while it is on screen at its newest message', async () => {
    const me = await registered(testDevice());
    const channel = uniqueChannel();
    await me.session.open('channel', channel);
    const [kei] = await registeredClient(suite.node, 'kei');
    suite.track(kei);
    await kei.request({ type: 'JOIN', channel });
    const unreadOnNode = async () =>
      ((await (await python(me.user)).request({ type: 'CONVERSATIONS' })).conversations ?? []).find((c) => c.dest === channel)?.unread;

    me.session.viewing(channel, false); // scrolled up
    await kei.request({ type: 'MSG', dest_type: 'channel', dest: channel, content: 'while you read above' });
    await until('it to arrive', () => me.said(channel).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await unreadOnNode()).toBe(1); // no READ

    me.session.viewing(channel, true); // scrolled to the bottom
    await until('the READ', () => me.state().conversations[channel]?.read === me.said(channel)[0]?.id);
    expect(await unreadOnNode()).toBe(0);
    await kei.request({ type: 'MSG', dest_type: 'channel', dest: channel, content: 'seen as it arrives' });
    await until('it to arrive', () => me.said(channel).length === 2);
    me.session.viewing(channel, true); // the screen says so again for a new message at the bottom
    await until('the second READ', () => me.state().conversations[channel]?.read === me.said(channel)[1]?.id);
  });
});

/** The contents of the messages the device keeps for `key` (written a moment after a change). */
async function cachedContents(device: TestDevice, key: string): Promise<string[]> {
  const cached = await device.conversations.load();
  return cached?.conversations.find((c) => c.key === key)?.messages.map((m) => m.content) ?? [];
}

describe('opening a conversation', () => {
  it('refuses a DM to a user who does not exist and leaves no blank conversation behind', async () => {
    const me = await registered(testDevice());
    const nobody = uniqueUser('nobody');
    await expect(me.session.open('user', nobody)).rejects.toMatchObject({ code: 'NO_SUCH_USER' });
    expect(me.state().conversations[`@${nobody.toLowerCase()}`]).toBeUndefined();
    expect(me.state().active).toBeNull();
  });
});

describe('the outbox across a restart of the app (§14.7)', () => {
  it('keeps what was typed while the node was down and sends it exactly once, in order, after a restart', async () => {
    const device = testDevice();
    const me = await typedWhileNodeDown(device, ['first', 'second', 'first']); // reloaded with the node still down
    const { channel } = me;

    const reloaded = open(device);
    expect(await reloaded.session.resume()).toEqual({ kind: 'offline' });
    expect(reloaded.said(channel).map((m) => [m.content, m.status])).toEqual([
      ['first', 'pending'],
      ['second', 'pending'],
      ['first', 'pending'],
    ]);
    await suite.node.resume();
    await until('the outbox to be sent', () => reloaded.said(channel).length === 3 && reloaded.said(channel).every((m) => m.status === 'sent'), 30_000);
    expect(await device.outbox.load()).toEqual([]);
    const stored = (await (await python(me.user)).request({ type: 'HISTORY', dest_type: 'channel', dest: channel })).messages ?? [];
    expect(stored.map((m) => m.content)).toEqual(['first', 'second', 'first']);
    expect(reloaded.said(channel).map((m) => m.id)).toEqual(stored.map((m) => m.id));
  });

  it('keeps the outbox through a password prompt (device revoked meanwhile) and sends it once after the login', async () => {
    const device = testDevice();
    const me = await typedWhileNodeDown(device, ['typed before the revoke']);
    const { channel } = me;
    await suite.node.resume();
    const laptop = await (async () => {
      const app = open(testDevice());
      await app.session.connect(suite.node.wsAddress);
      await app.session.login(me.user, PASSWORD, false);
      return app;
    })();
    const revoked = (await laptop.session.devices()).find((d) => !d.current);
    await laptop.session.revokeDevice(revoked?.id ?? '');

    const reloaded = open(device);
    expect(await reloaded.session.resume()).toMatchObject({ kind: 'needs-password' });
    await reloaded.session.login(me.user, PASSWORD, false);
    await until('the message to be sent', () => reloaded.said(channel).some((m) => m.status === 'sent'));
    const stored = (await (await python(me.user)).request({ type: 'HISTORY', dest_type: 'channel', dest: channel })).messages ?? [];
    expect(stored.map((m) => m.content)).toEqual(['typed before the revoke']);
    expect(reloaded.said(channel).map((m) => [m.content, m.status])).toEqual([['typed before the revoke', 'sent']]);
  });

  it('does not send what another account left in the outbox', async () => {
    const device = testDevice();
    const first = await registered(device);
    const [kei, keiName] = await registeredClient(suite.node, 'kei');
    suite.track(kei);
    await first.session.open('user', keiName);
    await suite.node.halt();
    await until('the session to notice', () => first.state().link === 'offline');
    await first.session.sendText(`@${keiName.toLowerCase()}`, 'from the first account');
    first.session.close();
    await suite.node.resume();

    const second = open(device);
    const secondName = uniqueUser('second');
    await second.session.connect(suite.node.wsAddress);
    await second.session.login(secondName, PASSWORD, true);
    expect(await device.outbox.load()).toEqual([]);
    const keiAgain = await python(keiName);
    const fromSecond = await keiAgain.request({ type: 'HISTORY', dest_type: 'user', dest: secondName });
    expect(fromSecond.messages ?? []).toEqual([]);
  });

  it('keeps a message the node refused out of the store, so a restart does not send it again', async () => {
    const device = testDevice();
    const me = await registered(device);
    const nobody = uniqueUser('nobody');
    await me.session.sendText(`@${nobody.toLowerCase()}`, 'hello?');
    expect(me.said(`@${nobody.toLowerCase()}`).at(-1)).toMatchObject({ status: 'failed', error: { code: 'NO_SUCH_USER' } });
    expect(await device.outbox.load()).toEqual([]);
  });
});
