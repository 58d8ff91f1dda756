/**
 * §14.16 in the chat session, against a real node: a channel's roster longer than one message
 * comes in pages (`cursor`/`next`), and the session gathers every page, so a role held by a
 * member whose name sorts late is known too.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

import { PYTHON } from '../support/paths';
import { until } from '../support/session';
import { channelNamer, realNodeSuite } from '../support/suite';

const suite = realNodeSuite();
const uniqueChannel = channelNamer('r');

/** 1,500 members of 32-character names (~50 bytes each): more than one 65519-byte message. */
const SEAT_MEMBERS = `
import sqlite3, sys
database, channel = sys.argv[1], sys.argv[2]
names = [f"m{n:04d}{'x' * 27}" for n in range(1500)]
with sqlite3.connect(database) as db:
    db.executemany("INSERT INTO users (name_key, name, password_hash, created) VALUES (?, ?, 'x', 1)",
                   [(name.lower(), name) for name in names])
    db.executemany("INSERT INTO memberships (channel, user_key) VALUES (?, ?)",
                   [(channel, name.lower()) for name in names])
`;

describe('a channel roster over several pages', () => {
  it('gathers every page, so the owner named last still has their role', async () => {
    const app = await suite.phone({ reconnectDelaysMs: [100, 200, 400] });
    const channel = uniqueChannel();
    await app.session.open('channel', channel); // the first member: its owner
    await suite.node.halt();
    // Written while the node is stopped: it loads memberships at start.
    execFileSync(PYTHON, ['-c', SEAT_MEMBERS, path.join(suite.node.dataDir, 'aronanet.sqlite3'), channel]);
    await suite.node.resume();
    await until('the session to reconnect', () => app.state().link === 'online');

    await app.session.loadRoster(channel);
    // "phone…" sorts after every "m0000…" member, so the owner is on a later page.
    expect(app.user.toLowerCase() > 'm1499').toBe(true);
    const plaza = app.state().conversations[channel];
    expect(plaza?.roles).toEqual({ [app.user.toLowerCase()]: 'owner' });
    expect(plaza?.members).toHaveLength(1501); // every member, not the first page's
  }, 60_000);
});
