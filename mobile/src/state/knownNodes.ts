/**
 * Trust on first use (§2): the first fingerprint seen at an address is pinned; a different one
 * later is refused, loudly, unless the user accepts it.
 */
import { KeyChangedError } from '../protocol/errors';
import type { KeyValueStore } from '../platform/keyValue';

const PREFIX = 'aronanet.known_node.';

export type PinResult = 'first-use' | 'match';

export class KnownNodes {
  constructor(private readonly store: KeyValueStore) {}

  /** Pin on first use; throw `KeyChangedError` when the address shows another key. */
  async check(address: string, fingerprint: string): Promise<PinResult> {
    const pinned = await this.store.get(PREFIX + address);
    if (pinned === null) {
      await this.store.set(PREFIX + address, fingerprint);
      return 'first-use';
    }
    if (pinned !== fingerprint) throw new KeyChangedError(address, pinned, fingerprint);
    return 'match';
  }

  /** The user accepted a changed key: pin the new one. */
  accept(address: string, fingerprint: string): Promise<void> {
    return this.store.set(PREFIX + address, fingerprint);
  }
}
