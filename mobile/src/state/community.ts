/**
 * A community is one or more nodes sharing one key, one store and one broker
 * (docs/SCALE-OUT.md): the client knows several of their addresses and moves to the next one
 * when its node dies. Written comma-separated wherever one address was accepted
 * (`h1:7778, h2:7778`, or `ws(s)://` URLs); on the web the node that served the app comes first.
 *
 * The rotation is round-robin from the address that failed, so every node is tried once per
 * cycle and the one that just died is tried last; the caller waits (its backoff) only after a
 * whole cycle failed.
 */

/** The most addresses one list keeps: a community is a handful of nodes, not a directory. */
export const MAX_ADDRESSES = 16;

/** Where a node serving the web app tells its community's other WebSocket addresses. */
export const COMMUNITY_PATH = '/community.json';

/** `h1:7778, h2:7778` into its addresses: trimmed, empty parts dropped, each once, in order. */
export function parseAddresses(text: string): string[] {
  const found: string[] = [];
  for (const part of text.split(',')) {
    const address = part.trim();
    if (address && !found.some((known) => sameAddress(known, address))) found.push(address);
  }
  return found.slice(0, MAX_ADDRESSES);
}

/** What a node told of its community: its own address (`origin`) and its other ones. */
export interface LearnedCommunity {
  readonly origin: string;
  readonly addresses: readonly string[];
}

/**
 * `list` with the learned addresses after it, but only when `list` is that node's community
 * (it names `origin`): a list the user typed for another community must not gain them, or
 * accepting its key would pin it for them too.
 */
export function withLearned(list: readonly string[], learned: LearnedCommunity | null): string[] {
  if (!learned || !list.some((address) => sameAddress(address, learned.origin))) return [...list];
  return mergeAddresses(list, learned.addresses);
}

/** The list as the user writes it (and as the account remembers it). */
export function formatAddresses(addresses: readonly string[]): string {
  return addresses.join(', ');
}

/** `known` then the addresses of `learned` it lacks: what the user gave keeps its order and place. */
export function mergeAddresses(known: readonly string[], learned: readonly string[]): string[] {
  return parseAddresses(formatAddresses([...known, ...learned]));
}

/** Host names are case-insensitive; a trailing `/artp` on a URL names the same endpoint. */
export function sameAddress(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

function canonical(address: string): string {
  return address.trim().toLowerCase().replace(/\/artp$/, '').replace(/\/$/, '');
}

/** The short name a notice uses: `h2:7778` for `wss://h2:7778/artp` and for `h2:7778` alike. */
export function shortName(address: string): string {
  const match = /^wss?:\/\/([^/]+)/i.exec(address.trim());
  return match?.[1] ?? address.trim();
}

/**
 * The order to try the list in after `failed` (an index) failed: the next one, round-robin,
 * the failed one last (a node restarting behind a single address is still retried).
 */
export function rotation(count: number, failed: number): number[] {
  return Array.from({ length: count }, (_, step) => (failed + 1 + step) % count);
}

/**
 * The addresses a node's `/community.json` names (`{"addresses": ["h2:7778", …]}`), or none
 * when the body is anything else: it came over plain HTTP, so it is only a hint (each node
 * must still present the community's pinned key).
 */
export function communityFromJson(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const addresses = (body as { addresses?: unknown }).addresses;
  if (!Array.isArray(addresses)) return [];
  const valid = addresses.filter((item): item is string => typeof item === 'string' && item.length <= 255 && !item.includes(','));
  return parseAddresses(formatAddresses(valid));
}

/**
 * Try `attempt` at each address of `order` (indexes into `addresses`) until one works; an
 * error `fatal` says no other address can fix (a changed key) ends the turn at once. Rejects
 * with the last error when every address failed.
 */
export async function firstReachable<T>(
  addresses: readonly string[],
  order: readonly number[],
  attempt: (address: string) => Promise<T>,
  fatal: (error: unknown) => boolean,
): Promise<{ readonly value: T; readonly index: number }> {
  let last: unknown = new Error('no node address');
  for (const index of order) {
    const address = addresses[index];
    if (address === undefined) continue;
    try {
      return { value: await attempt(address), index };
    } catch (error) {
      if (fatal(error)) throw error;
      last = error;
    }
  }
  throw last;
}

/**
 * The community a session is on: its addresses (what the user gave or the account kept, then
 * what the serving node told), which of them is in use, and the order to try them in.
 */
export class Community {
  private list: string[] = [];
  private index = 0;
  private learned: LearnedCommunity | null = null;
  /** This client's random rank of each address, drawn once (PROTOCOL.md §11.1). */
  private readonly ranks = new Map<string, number>();

  /**
   * `random` ranks the addresses for failover once per client, so the clients of a node that
   * dies spread over the others instead of all moving onto the next one.
   */
  constructor(private readonly random: () => number = Math.random) {}

  /** The addresses, in the order given. */
  get addresses(): readonly string[] {
    return this.list;
  }

  /** The address in use, or last in use. */
  get current(): string | null {
    return this.list[this.index] ?? null;
  }

  /** Several nodes to move between (one address behaves as before failover existed). */
  get several(): boolean {
    return this.list.length > 1;
  }

  /** Use the list written in `text` (plus what the serving node told, if it is in it). */
  use(text: string): void {
    this.list = withLearned(parseAddresses(text), this.learned);
    this.index = 0;
  }

  /** Forget the list (nothing to reconnect to until `use`). */
  clear(): void {
    this.list = [];
    this.index = 0;
  }

  /** The node serving the app told its community; true when the list gained addresses. */
  learn(learned: LearnedCommunity): boolean {
    this.learned = learned;
    const merged = withLearned(this.list, learned);
    if (merged.length === this.list.length) return false;
    this.list = merged;
    return true;
  }

  /** `address` answered: a later failover starts after it. */
  reached(address: string): void {
    this.index = Math.max(0, this.list.indexOf(address));
  }

  /** The order of a first connection: as given. */
  firstOrder(): number[] {
    return rotation(this.list.length, this.list.length - 1);
  }

  /**
   * The order after the address in use failed: the others in this client's own random order,
   * the failed one last (a node restarting behind a single address is still retried).
   */
  failoverOrder(): number[] {
    const ranks = this.list.map((_, index) => this.rank(index));
    const others = rotation(this.list.length, this.index).slice(0, -1);
    others.sort((a, b) => (ranks[a] ?? 0) - (ranks[b] ?? 0));
    return [...others, this.index];
  }

  private rank(index: number): number {
    const address = this.list[index] ?? '';
    let rank = this.ranks.get(address);
    if (rank === undefined) {
      rank = this.random();
      this.ranks.set(address, rank);
    }
    return rank;
  }

  /** As the account remembers it. */
  toString(): string {
    return formatAddresses(this.list);
  }
}
