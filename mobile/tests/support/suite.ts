/**
 * What every session test file against a real node needs, written once: one node for the
 * file (started before its tests, stopped after), everything a test opened closed after it,
 * unique channel names, and a phone session logged in as a fresh user.
 */
import { uniqueUser } from './client';
import { startNode, type RunningNode, type StartOptions } from './node';
import { type HarnessOptions, type SessionHarness, sessionHarness } from './session';

export const PASSWORD = 'correct horse battery';

type Closable = { close(): void };

export interface NodeSuite {
  /** The file's node; only valid inside tests and hooks (it starts in `beforeAll`). */
  readonly node: RunningNode;
  /** Close `thing` after the current test; returns it. */
  track<T extends Closable>(thing: T): T;
  /** A phone session connected over WebSocket and registered as a fresh user. */
  phone(options: HarnessOptions): Promise<SessionHarness & { user: string }>;
}

/** Registers the jest hooks of a real-node test file; call once at its top level. */
export function realNodeSuite(options: StartOptions = {}): NodeSuite {
  let node: RunningNode | undefined;
  const open: Closable[] = [];
  beforeAll(async () => {
    node = await startNode(options);
  }, 60_000);
  afterEach(() => {
    for (const thing of open.splice(0)) thing.close();
  });
  afterAll(async () => {
    await node?.stop();
  });
  const suite: NodeSuite = {
    get node(): RunningNode {
      if (node === undefined) throw new Error('the node starts in beforeAll; use it inside tests');
      return node;
    },
    track<T extends Closable>(thing: T): T {
      open.push(thing);
      return thing;
    },
    async phone(sessionOptions) {
      const harness = sessionHarness(sessionOptions);
      suite.track(harness.session);
      await harness.connectAndTrust(suite.node.wsAddress);
      const user = uniqueUser('phone');
      await harness.session.login(user, PASSWORD, true);
      return { ...harness, user };
    },
  };
  return suite;
}

/** A source of channel names no other test file on the node uses: `#<prefix><pid>_<n>`. */
export function channelNamer(prefix: string): () => string {
  let counter = 0;
  return () => {
    counter += 1;
    return `#${prefix}${process.pid % 10000}_${counter}`;
  };
}
