/**
 * Failover in the chat session (state/community) against real nodes: a community of two
 * (one key, one PostgreSQL schema, one Redis prefix; tests/support/community.ts) and one
 * stand-alone node with a key of its own. The session moves to the other node when its own
 * is SIGKILLed and sends what was typed meanwhile once; the outbox belongs to the community's
 * key, so another address of it sends what was queued, and another community does not.
 * Needs PostgreSQL and Redis, as tests/integration/scale does.
 */
import type { ArtpClient } from '../../src/protocol/client';
import { registeredClient, uniqueUser } from '../support/client';
import { type Community, startCommunity } from '../support/community';
import { type RunningNode, startNode } from '../support/node';
import { type SessionHarness, sessionHarness, type TestDevice, testDevice, until } from '../support/session';
import { PASSWORD } from '../support/suite';

/** The backoff only after a full cycle: long here, so a move that waited for it would time out. */
const SLOW_BACKOFF = [60_000];

let community: Community;
let lone: RunningNode;
const opened: SessionHarness[] = [];
const clients: ArtpClient[] = [];

function open(device: TestDevice): SessionHarness {
  const harness = sessionHarness({ reconnectDelaysMs: SLOW_BACKOFF, device });
  opened.push(harness);
  return harness;
}

/** What `dest`'s channel holds, read by a second client through `node`. */
async function stored(node: RunningNode, channel: string): Promise<string[]> {
  const [client] = await registeredClient(node, 'reader');
  clients.push(client);
  await client.request({ type: 'JOIN', channel });
  const history = await client.request({ type: 'HISTORY', dest_type: 'channel', dest: channel, limit: 100 });
  return (history.messages ?? []).map((m) => m.content);
}

beforeAll(async () => {
  community = await startCommunity(2);
  lone = await startNode();
}, 120_000);

afterEach(() => {
  for (const harness of opened.splice(0)) harness.session.close();
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await community?.stop();
  await lone?.stop();
});

describe('a session on a community of two nodes', () => {
  it('moves to the other node at once when its node is killed, and sends what was typed once', async () => {
    const [node1, node2] = community.nodes as [RunningNode, RunningNode];
    const app = open(testDevice());
    await app.connectAndTrust(community.addresses);
    expect(app.session.community.current).toBe(node1.wsAddress);
    await app.session.login(uniqueUser('mover'), PASSWORD, true);
    const channel = `#fo${Date.now() % 100000}`;
    await app.session.open('channel', channel);
    await app.session.sendText(channel, 'on node 1');

    await node1.kill();
    await until('the session to notice', () => app.state().link !== 'online');
    await app.session.sendText(channel, 'typed during the move');
    await until('the move to node 2', () => app.state().movedTo === node2.wsAddress);
    expect(app.state().link).toBe('online');
    expect(app.session.community.current).toBe(node2.wsAddress);
    await until('the outbox to be sent', () => app.said(channel).some((m) => m.content === 'typed during the move' && m.status === 'sent'));
    const texts = await stored(node2, channel);
    expect(texts.filter((t) => t === 'typed during the move')).toHaveLength(1);
    expect(texts.filter((t) => t === 'on node 1')).toHaveLength(1);
    await node1.resume();
  });
});

describe('the outbox belongs to the community, not to one address', () => {
  /** A device whose account and outbox were left by a session of `fingerprint` at `address`. */
  async function deviceWithQueued(user: string, address: string, fingerprint: string, channel: string): Promise<TestDevice> {
    const device = testDevice();
    await device.accounts.set('aronanet.account', JSON.stringify({ address, user, fingerprint }));
    await device.outbox.put({ seq: 1, cid: 'c'.repeat(32), key: channel, destType: 'channel', dest: channel, content: 'queued before', timestamp: 1 });
    return device;
  }

  it('sends what was queued for node 1 through node 2, once', async () => {
    const [node1, node2] = community.nodes as [RunningNode, RunningNode];
    const user = uniqueUser('keeper');
    const channel = `#ob${Date.now() % 100000}`;
    const setup = open(testDevice());
    await setup.connectAndTrust(node2.wsAddress);
    await setup.session.login(user, PASSWORD, true);
    await setup.session.open('channel', channel);
    setup.session.close();

    const device = await deviceWithQueued(user, node1.wsAddress, node1.fingerprint(), channel);
    const app = open(device);
    await app.connectAndTrust(node2.wsAddress);
    await app.session.login(user, PASSWORD, false);
    await until('the outbox to empty', () => app.said(channel).some((m) => m.content === 'queued before' && m.status === 'sent'));
    expect(await device.outbox.load()).toEqual([]);
    expect((await stored(node2, channel)).filter((t) => t === 'queued before')).toHaveLength(1);
  });

  it('drops what was queued under another key: the same name elsewhere is someone else', async () => {
    const user = uniqueUser('stranger');
    const channel = `#ot${Date.now() % 100000}`;
    const device = await deviceWithQueued(user, community.addresses, community.nodes[0]?.fingerprint() ?? '', channel);
    const app = open(device);
    await app.connectAndTrust(lone.wsAddress);
    await app.session.login(user, PASSWORD, true);
    expect(await device.outbox.load()).toEqual([]);
    expect(JSON.parse((await device.accounts.get('aronanet.account')) ?? '{}')).toEqual({
      address: lone.wsAddress,
      user,
      fingerprint: lone.fingerprint(),
    });
  });
});
