/**
 * Opening a link and signing in (PROTOCOL.md §14.3): the handshake, with the node's key pinned
 * on first use (or to an invitation's fingerprint, §14.21), and AUTH with a password (login,
 * registration, reset) or with the device key alone. The session decides when and keeps who
 * signed in; this builds the requests and reads their answers.
 */
import { ArtpClient } from '../protocol/client';
import { ArtpError } from '../protocol/errors';
import type { PinResult } from './knownNodes';
import type { AuthTokens, SessionDeps } from './sessionTypes';

/** Who signed in; `password` is kept only for a node without `sync` (ArTP/1.0). */
export interface SignedInAccount {
  readonly user: string;
  readonly password?: string;
}

type LinkDeps = Pick<SessionDeps, 'openTransport' | 'aead' | 'random' | 'deviceKey' | 'clientName' | 'knownNodes'>;

/**
 * Connect and handshake to `address` of `community` (its addresses present one key). With
 * `pinned`, a key other than that one is refused (KEY_MISMATCH) and a first-use key that is
 * it is accepted without a question.
 */
export async function openLink(deps: LinkDeps, address: string, community: readonly string[], pinned?: string): Promise<{ client: ArtpClient; pin: PinResult }> {
  let pin: PinResult = 'match';
  const client = await ArtpClient.connect({
    transport: await deps.openTransport(address),
    aead: deps.aead,
    random: deps.random,
    staticKey: deps.deviceKey,
    clientName: deps.clientName ?? 'aronanet-mobile/0.2',
    verifyNode: async (fingerprint) => {
      if (pinned !== undefined && fingerprint !== pinned) {
        throw new ArtpError('KEY_MISMATCH', `the node presented ${fingerprint}, but the invitation names ${pinned}: refused`);
      }
      pin = await deps.knownNodes.check(address, fingerprint, community);
      if (pinned !== undefined && pin === 'first-use') {
        await deps.knownNodes.accept(community, fingerprint);
        pin = 'match';
      }
    },
  });
  return { client, pin };
}

/** AUTH with the password, or (without one, §14.3) a device sign-in. */
export async function signIn(
  client: ArtpClient,
  deviceName: string | undefined,
  user: string,
  password?: string,
  register = false,
  tokens: AuthTokens = {},
): Promise<{ account: SignedInAccount; deviceId: string | null; channels: readonly string[] }> {
  const sync = client.features.has('sync');
  const named = sync && password !== undefined && deviceName ? { device_name: deviceName } : {};
  const secret = password !== undefined ? { password } : {};
  const invited = register && tokens.invite ? { invite: tokens.invite } : {};
  const reset = !register && password !== undefined && tokens.reset ? { reset: tokens.reset } : {};
  const ok = await client.request({ type: 'AUTH', user, ...secret, ...(register ? { register } : {}), ...named, ...invited, ...reset });
  const signedIn = ok.user ?? user;
  // A node without `sync` has no device sign-in: its reconnects need the password again.
  return { account: { user: signedIn, ...(sync ? {} : { password }) }, deviceId: ok.device ?? null, channels: ok.channels ?? [] };
}

/** The password a sign-in after a reconnect sends: none on a `sync` node (the device key), else the one kept. */
export function reauthPassword(client: ArtpClient, account: SignedInAccount): string | undefined {
  if (!client.features.has('sync') && account.password === undefined) {
    throw new ArtpError('AUTH_FAILED', 'this node has no device sign-in: log in with your password');
  }
  return client.features.has('sync') ? undefined : account.password;
}
