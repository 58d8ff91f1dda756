/**
 * The account a device stays signed in to (PROTOCOL.md §14.3): which community (its node
 * addresses and key) and user name, kept
 * across restarts so the app signs in again with its device key alone, never storing the
 * password. Also the account's requests: its devices, renaming and revoking one, the password.
 */
import type { ArtpClient } from '../protocol/client';
import type { DeviceInfo } from '../protocol/messages';
import type { KeyValueStore } from '../platform/keyValue';

const KEY = 'aronanet.account';

export interface SavedAccount {
  /** The community's addresses, comma-separated (state/community); one address before 0.3. */
  readonly address: string;
  readonly user: string;
  /** The community's key: the outbox and the conversations kept belong to it, not to one address. */
  readonly fingerprint?: string;
}

/** Where the signed-in account is remembered (the platform's plain key-value storage). */
export class AccountMemory {
  constructor(private readonly store: KeyValueStore) {}

  async load(): Promise<SavedAccount | null> {
    const raw = await this.store.get(KEY);
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw) as Partial<SavedAccount>;
      if (typeof parsed.address === 'string' && typeof parsed.user === 'string') {
        const fingerprint = typeof parsed.fingerprint === 'string' ? { fingerprint: parsed.fingerprint } : {};
        return { address: parsed.address, user: parsed.user, ...fingerprint };
      }
    } catch {
      // Not ours or damaged: as if nothing was saved.
    }
    return null;
  }

  save(account: SavedAccount): Promise<void> {
    return this.store.set(KEY, JSON.stringify(account));
  }

  forget(): Promise<void> {
    return this.store.remove(KEY);
  }
}

/** §14.3 DEVICES: the user's devices, newest `last_seen` first as the node orders them. */
export async function listDevices(client: ArtpClient): Promise<DeviceInfo[]> {
  const ok = await client.request({ type: 'DEVICES' });
  return [...(ok.devices ?? [])];
}

/** §14.3 DEVICE_RENAME; resolves with the name the node stored. */
export async function renameDevice(client: ArtpClient, device: string, name: string): Promise<string> {
  const ok = await client.request({ type: 'DEVICE_RENAME', device, name });
  return ok.name ?? name;
}

/** §14.3 DEVICE_REVOKE: the node closes that device's sessions at once. */
export async function revokeDevice(client: ArtpClient, device: string): Promise<void> {
  await client.request({ type: 'DEVICE_REVOKE', device });
}

/** §14.3 PASSWORD: on success every OTHER device of the account is revoked. */
export async function changePassword(client: ArtpClient, old: string, next: string): Promise<void> {
  await client.request({ type: 'PASSWORD', old, new: next });
}
