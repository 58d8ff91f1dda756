/**
 * Trust on first use (§2): the first fingerprint seen at an address is pinned once the user
 * accepts it; a different one later is refused, loudly, unless the user accepts it.
 *
 * A community (state/community) is several addresses presenting ONE key: a pin for any of
 * them accepts that key at every other (pinned there silently), and a different key at any
 * of them is refused like a changed key. With no pin at all, the key the user accepts is
 * pinned for every address of the list.
 */
import { KeyChangedError } from '../protocol/errors';
import type { KeyValueStore } from '../platform/keyValue';

const PREFIX = 'aronanet.known_node.';

export type PinResult = 'first-use' | 'match';

export class KnownNodes {
  constructor(private readonly store: KeyValueStore) {}

  /**
   * 'first-use' when nothing is pinned for `address` nor for any other address of its
   * `community` (§11: the key is pinned only if the user accepts it: show it and call
   * `accept`); throw `KeyChangedError` when a pin of the list names another key.
   */
  async check(address: string, fingerprint: string, community: readonly string[] = [address]): Promise<PinResult> {
    const own = await this.store.get(PREFIX + address);
    if (own !== null && own !== fingerprint) throw new KeyChangedError(address, own, fingerprint);
    const others = await Promise.all(community.filter((other) => other !== address).map((other) => this.store.get(PREFIX + other)));
    const differing = others.find((pinned) => pinned !== null && pinned !== fingerprint);
    if (differing) throw new KeyChangedError(address, differing, fingerprint);
    if (own !== null) return 'match';
    if (others.some((pinned) => pinned === fingerprint)) {
      await this.accept(address, fingerprint); // the community's key, at another of its addresses
      return 'match';
    }
    return 'first-use';
  }

  /** The user accepted the key (first use, or a changed key): pin it for every address given. */
  async accept(address: string | readonly string[], fingerprint: string): Promise<void> {
    const addresses = typeof address === 'string' ? [address] : address;
    await Promise.all(addresses.map((each) => this.store.set(PREFIX + each, fingerprint)));
  }
}
