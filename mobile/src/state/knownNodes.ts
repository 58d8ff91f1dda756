/**
 * Trust on first use (§2): the first fingerprint seen at an address is pinned once the user
 * accepts it; a different one later is refused, loudly, unless the user accepts it.
 */
import { KeyChangedError } from '../protocol/errors';
import type { KeyValueStore } from '../platform/keyValue';

const PREFIX = 'aronanet.known_node.';

export type PinResult = 'first-use' | 'match';

export class KnownNodes {
  constructor(private readonly store: KeyValueStore) {}

  /**
   * 'first-use' when nothing is pinned for the address (§11: the key is pinned only if the user
   * accepts it: show it and call `accept`); throw `KeyChangedError` when it shows another key.
   */
  async check(address: string, fingerprint: string): Promise<PinResult> {
    const pinned = await this.store.get(PREFIX + address);
    if (pinned === null) return 'first-use';
    if (pinned !== fingerprint) throw new KeyChangedError(address, pinned, fingerprint);
    return 'match';
  }

  /** The user accepted the key (first use, or a changed key): pin it. */
  accept(address: string, fingerprint: string): Promise<void> {
    return this.store.set(PREFIX + address, fingerprint);
  }
}
