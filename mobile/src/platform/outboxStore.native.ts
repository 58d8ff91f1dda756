/**
 * Phones: the outbox as one JSON document in AsyncStorage (the app's files), image bytes as
 * base64. Small by nature: it holds only what waits for the node.
 */
import { fromBase64, toBase64 } from '../protocol/bytes';
import type { OutboxStore, StoredOutgoing } from '../state/outbox';
import { plainStore } from './keyValue';

const KEY = 'aronanet.outbox';

type Serialised = Omit<StoredOutgoing, 'image'> & { image?: { bytes: string; name: string; mime: string } };

async function read(): Promise<StoredOutgoing[]> {
  const raw = await plainStore.get(KEY);
  const entries = raw ? (JSON.parse(raw) as Serialised[]) : [];
  return entries.map(({ image, ...entry }) => (image ? { ...entry, image: { ...image, bytes: fromBase64(image.bytes) } } : entry));
}

function write(entries: StoredOutgoing[]): Promise<void> {
  const serialised: Serialised[] = entries.map(({ image, ...entry }) =>
    image ? { ...entry, image: { ...image, bytes: toBase64(image.bytes) } } : entry,
  );
  return plainStore.set(KEY, JSON.stringify(serialised));
}

export function outboxStore(): OutboxStore {
  return {
    load: async () => (await read()).sort((a, b) => a.seq - b.seq),
    put: async (entry) => write([...(await read()).filter((e) => e.seq !== entry.seq), entry]),
    remove: async (seq) => write((await read()).filter((e) => e.seq !== seq)),
    clear: () => plainStore.remove(KEY),
  };
}
