/**
 * A community of real nodes for the failover tests: several `aronanet serve` processes with
 * one node key, one PostgreSQL schema and one Redis channel prefix (docs/SCALE-OUT.md, as
 * tests/integration/scale/cluster.py starts them), each naming all of them in
 * `--community-addresses`. Needs PostgreSQL (127.0.0.1:5432, trust, database `test`) and Redis
 * (127.0.0.1:6379); ARONANET_TEST_POSTGRES and ARONANET_TEST_REDIS point elsewhere.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { freePort, type RunningNode, startNode, type StartOptions } from './node';
import { PYTHON } from './paths';

const POSTGRES = process.env.ARONANET_TEST_POSTGRES ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS = process.env.ARONANET_TEST_REDIS ?? 'redis://127.0.0.1:6379/0';

export interface Community {
  readonly nodes: readonly RunningNode[];
  /** Every node's WebSocket address, comma-separated, as a user types the list. */
  readonly addresses: string;
  /** Stop every node, drop the schema, remove the key. */
  stop(): Promise<void>;
}

function sql(statement: string): void {
  const run = `import psycopg, sys\nwith psycopg.connect(sys.argv[1], autocommit=True) as c: c.execute(sys.argv[2])`;
  execFileSync(PYTHON, ['-c', run, POSTGRES, statement], { encoding: 'utf8', timeout: 30_000 });
}

/** Start `count` nodes of one community; `options` go to every node (e.g. `webDir`). */
export async function startCommunity(count: number, options: StartOptions = {}): Promise<Community> {
  const unique = `mfo_${process.pid}_${Date.now() % 1_000_000}`;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'aronanet-community-'));
  const keyFile = path.join(home, 'node.key');
  execFileSync(PYTHON, ['-c', 'import sys; from pathlib import Path; from aronanet import identity; identity.load_or_create_key(Path(sys.argv[1]))', keyFile]);
  sql(`CREATE SCHEMA ${unique}`);
  const ports = [];
  for (let n = 0; n < count; n += 1) ports.push({ tcp: await freePort(), ws: await freePort() });
  const addresses = ports.map((p) => `127.0.0.1:${p.ws}`).join(',');
  const store = `${POSTGRES}?options=-csearch_path%3D${unique}`;
  const nodes: RunningNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    sql(`DROP SCHEMA IF EXISTS ${unique} CASCADE`);
    fs.rmSync(home, { recursive: true, force: true });
  };
  try {
    // One after the other: the first creates the tables (migrations under an advisory lock).
    for (const pair of ports) {
      const args = ['--store', store, '--broker', REDIS, '--broker-prefix', unique, '--community-addresses', addresses];
      nodes.push(await startNode({ ...options, keyFile, ports: pair, args: [...(options.args ?? []), ...args] }));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, addresses: addresses.replace(/,/g, ', '), stop };
}
