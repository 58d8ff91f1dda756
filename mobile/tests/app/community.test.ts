/**
 * One community, several addresses (state/community, state/knownNodes): the list as the user
 * writes it, the order a failover tries it in, what a node's `/community.json` may add, and
 * the one key every address of the list must present.
 */
import { KeyChangedError } from '../../src/protocol/errors';
import { AccountMemory } from '../../src/state/account';
import {
  Community,
  communityFromJson,
  firstReachable,
  formatAddresses,
  MAX_ADDRESSES,
  mergeAddresses,
  parseAddresses,
  rotation,
  sameAddress,
  shortName,
  withLearned,
} from '../../src/state/community';
import { KnownNodes } from '../../src/state/knownNodes';
import { memoryStore } from '../support/memoryStore';

const KEY = 'SHA256:community';
const OTHER = 'SHA256:someone-else';

describe('the address list', () => {
  it('splits on commas, trims, drops empty parts and repeats, keeps the order', () => {
    expect(parseAddresses(' h1:7778, h2:7778 ,,H1:7778, wss://h3/artp ')).toEqual(['h1:7778', 'h2:7778', 'wss://h3/artp']);
    expect(parseAddresses('h1:7778')).toEqual(['h1:7778']);
    expect(parseAddresses(' , ')).toEqual([]);
  });

  it('keeps at most MAX_ADDRESSES', () => {
    const many = Array.from({ length: MAX_ADDRESSES + 3 }, (_, i) => `h${i}:7778`);
    expect(parseAddresses(many.join(','))).toEqual(many.slice(0, MAX_ADDRESSES));
  });

  it('is written back as the user writes it, and parses to the same list', () => {
    const list = ['h1:7778', 'wss://h2.example/artp'];
    expect(formatAddresses(list)).toBe('h1:7778, wss://h2.example/artp');
    expect(parseAddresses(formatAddresses(list))).toEqual(list);
  });

  it('treats host case and a trailing /artp as the same endpoint', () => {
    expect(sameAddress('ws://H2:7778/artp', 'ws://h2:7778')).toBe(true);
    expect(sameAddress('h2:7778', 'h2:7779')).toBe(false);
  });

  it('names a node shortly in notices', () => {
    expect(shortName('wss://h2.example:8443/artp')).toBe('h2.example:8443');
    expect(shortName(' h2:7778 ')).toBe('h2:7778');
  });
});

describe('the rotation', () => {
  it('starts after the failed address and tries it last', () => {
    expect(rotation(3, 0)).toEqual([1, 2, 0]);
    expect(rotation(3, 2)).toEqual([0, 1, 2]);
    expect(rotation(1, 0)).toEqual([0]);
    expect(rotation(0, 0)).toEqual([]);
  });

  it('takes the first address that answers, and names it', async () => {
    const tried: string[] = [];
    const found = await firstReachable(['a', 'b', 'c'], rotation(3, 0), async (address) => {
      tried.push(address);
      if (address !== 'c') throw new Error(`${address} is down`);
      return address.toUpperCase();
    }, () => false);
    expect(found).toEqual({ value: 'C', index: 2 });
    expect(tried).toEqual(['b', 'c']);
  });

  it('rejects with the last error after a full cycle failed', async () => {
    const tried: string[] = [];
    const attempt = async (address: string): Promise<string> => {
      tried.push(address);
      throw new Error(`${address} is down`);
    };
    await expect(firstReachable(['a', 'b', 'c'], rotation(3, 1), attempt, () => false)).rejects.toThrow('b is down');
    expect(tried).toEqual(['c', 'a', 'b']);
  });

  it('stops at once on an error no other address can fix', async () => {
    const tried: string[] = [];
    const changed = new KeyChangedError('a', KEY, OTHER);
    const attempt = async (address: string): Promise<string> => {
      tried.push(address);
      throw changed;
    };
    await expect(firstReachable(['a', 'b'], [0, 1], attempt, (error) => error === changed)).rejects.toBe(changed);
    expect(tried).toEqual(['a']);
  });
});

describe('what a node tells of its community', () => {
  it('reads {"addresses": [...]} and ignores anything else', () => {
    expect(communityFromJson({ addresses: ['h2:7778', 'wss://h3/artp'] })).toEqual(['h2:7778', 'wss://h3/artp']);
    expect(communityFromJson({ addresses: ['h2:7778', 7, null, 'a,b', 'x'.repeat(256)] })).toEqual(['h2:7778']);
    expect(communityFromJson({ addresses: 'h2:7778' })).toEqual([]);
    expect(communityFromJson(null)).toEqual([]);
    expect(communityFromJson('h2:7778')).toEqual([]);
  });

  it('is merged after what the user gave, each address once', () => {
    expect(mergeAddresses(['h1:7778', 'h2:7778'], ['H2:7778', 'h3:7778'])).toEqual(['h1:7778', 'h2:7778', 'h3:7778']);
  });

  it('joins only the list of that node: another community does not gain its addresses', () => {
    const learned = { origin: 'h1:7778', addresses: ['h2:7778', 'h3:7778'] };
    expect(withLearned(['h1:7778'], learned)).toEqual(['h1:7778', 'h2:7778', 'h3:7778']);
    expect(withLearned(['elsewhere:7778'], learned)).toEqual(['elsewhere:7778']);
    expect(withLearned(['h1:7778'], null)).toEqual(['h1:7778']);
  });
});

describe('the community a session is on', () => {
  it('starts at the first address, fails over after the one in use, and remembers the list', () => {
    const community = new Community(() => 0); // equal ranks: plain round-robin
    community.use('h1:7778, h2:7778, h3:7778');
    expect(community.firstOrder()).toEqual([0, 1, 2]);
    community.reached('h2:7778');
    expect(community.current).toBe('h2:7778');
    expect(community.failoverOrder()).toEqual([2, 0, 1]);
    expect(String(community)).toBe('h1:7778, h2:7778, h3:7778');
    expect(community.several).toBe(true);
    community.clear();
    expect([community.addresses, community.current, community.several]).toEqual([[], null, false]);
  });

  it('spreads clients: the other addresses in each client\'s own random order, the failed one last', () => {
    const ranks = [0.9, 0.1, 0.5, 0.3];
    const community = new Community(() => ranks.shift() ?? 0);
    community.use('h1:7778, h2:7778, h3:7778, h4:7778');
    community.reached('h1:7778');
    // ranks drawn in list order: h1 0.9, h2 0.1, h3 0.5, h4 0.3
    expect(community.failoverOrder()).toEqual([1, 3, 2, 0]);
    community.reached('h3:7778');
    expect(community.failoverOrder()).toEqual([1, 3, 0, 2]); // the same ranks, kept
    const orders = new Set(
      Array.from({ length: 40 }, () => {
        const other = new Community();
        other.use('h1:7778, h2:7778, h3:7778');
        return other.failoverOrder()[0];
      }),
    );
    expect(orders.size).toBe(2); // different clients move to different nodes
  });

  it('adds what the serving node told to its own list only, then and later', () => {
    const community = new Community();
    community.use('h1:7778');
    expect(community.learn({ origin: 'h1:7778', addresses: ['h2:7778'] })).toBe(true);
    expect(community.learn({ origin: 'h1:7778', addresses: ['h2:7778'] })).toBe(false);
    expect(community.addresses).toEqual(['h1:7778', 'h2:7778']);
    community.use('h1:7778'); // a later list with that node in it gains them too
    expect(community.addresses).toEqual(['h1:7778', 'h2:7778']);
    community.use('elsewhere:7778');
    expect(community.addresses).toEqual(['elsewhere:7778']);
  });
});

describe('one key for every address of the list', () => {
  const community = ['h1:7778', 'h2:7778', 'h3:7778'];

  it('asks on first use when no address of the list is pinned, then pins the key for all', async () => {
    const pins = new KnownNodes(memoryStore());
    await expect(pins.check('h1:7778', KEY, community)).resolves.toBe('first-use');
    await pins.accept(community, KEY);
    for (const address of community) await expect(pins.check(address, KEY, [address])).resolves.toBe('match');
  });

  it('accepts the pinned key at another address of the list and pins it there silently', async () => {
    const store = memoryStore();
    const pins = new KnownNodes(store);
    await pins.accept('h1:7778', KEY);
    await expect(pins.check('h2:7778', KEY, community)).resolves.toBe('match');
    // pinned now for h2 on its own, with no list given
    await expect(pins.check('h2:7778', KEY)).resolves.toBe('match');
    await expect(store.get('aronanet.known_node.h3:7778')).resolves.toBeNull();
  });

  it('refuses a different key at another address of the list like a changed key', async () => {
    const pins = new KnownNodes(memoryStore());
    await pins.accept('h1:7778', KEY);
    const refused = pins.check('h2:7778', OTHER, community);
    await expect(refused).rejects.toBeInstanceOf(KeyChangedError);
    await expect(refused).rejects.toMatchObject({ address: 'h2:7778', pinned: KEY, presented: OTHER });
    await expect(pins.check('h2:7778', OTHER)).resolves.toBe('first-use'); // nothing was pinned
  });

  it('refuses a key that differs from the address own pin even when another address pins it', async () => {
    const pins = new KnownNodes(memoryStore());
    await pins.accept('h1:7778', KEY);
    await pins.accept('h2:7778', OTHER);
    await expect(pins.check('h2:7778', KEY, community)).rejects.toMatchObject({ pinned: OTHER, presented: KEY });
  });

  it('keeps one address working exactly as before', async () => {
    const pins = new KnownNodes(memoryStore());
    await expect(pins.check('h1:7778', KEY)).resolves.toBe('first-use');
    await pins.accept('h1:7778', KEY);
    await expect(pins.check('h1:7778', KEY)).resolves.toBe('match');
    await expect(pins.check('h1:7778', OTHER)).rejects.toBeInstanceOf(KeyChangedError);
  });
});

describe('the remembered account', () => {
  it('keeps the list and the community key, and reads what an older version saved', async () => {
    const store = memoryStore();
    const accounts = new AccountMemory(store);
    await store.set('aronanet.account', JSON.stringify({ address: 'h1:7778', user: 'kei' }));
    await expect(accounts.load()).resolves.toEqual({ address: 'h1:7778', user: 'kei' });
    await accounts.save({ address: 'h1:7778, h2:7778', user: 'kei', fingerprint: KEY });
    await expect(accounts.load()).resolves.toEqual({ address: 'h1:7778, h2:7778', user: 'kei', fingerprint: KEY });
  });
});
