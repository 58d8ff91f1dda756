/** Connect protocol-library clients to a test node, as a device would. */
import WebSocket from 'ws';

import { ArtpClient } from '../../src/protocol/client';
import { generateKeyPair, type KeyPair } from '../../src/protocol/noise';
import type { StaticKey } from '../../src/protocol/staticKey';
import { openWebSocket, type WebSocketConstructor } from '../../src/transport/websocket';
import type { RunningNode } from './node';
import { nodeAead, randomBytes } from './webcrypto';

export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

let userCounter = 0;

/** A user name unique within the test run, valid under §3's pattern. */
export function uniqueUser(prefix = 'sensei'): string {
  userCounter += 1;
  return `${prefix}${process.pid % 10000}_${userCounter}`;
}

export async function connectClient(
  node: RunningNode,
  verifyNode?: (fingerprint: string) => void,
  staticKey: KeyPair | StaticKey = generateKeyPair(randomBytes),
): Promise<ArtpClient> {
  const transport = await openWebSocket(node.wsUrl, NodeWebSocket);
  return ArtpClient.connect({
    transport,
    aead: nodeAead,
    staticKey,
    random: randomBytes,
    clientName: 'aronanet-mobile-tests/0.1',
    verifyNode,
  });
}

/** Connect and register a fresh user; returns the client and the user name. */
export async function registeredClient(node: RunningNode, prefix?: string): Promise<[ArtpClient, string]> {
  const client = await connectClient(node);
  const user = uniqueUser(prefix);
  await client.request({ type: 'AUTH', user, password: 'correct horse battery', register: true });
  return [client, user];
}
