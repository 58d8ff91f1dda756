/**
 * The app's IndexedDB database, in raw IndexedDB (no library): `keys` holds the device key (a
 * non-extractable CryptoKey, stored by structured clone), `outbox` the messages waiting to be
 * sent, by their `seq`, `conversations` what the device keeps of the conversations (one
 * record, `snapshot`; version 2).
 */
export const DATABASE = 'aronanet';
const VERSION = 2;
export const KEYS = 'keys';
export const OUTBOX = 'outbox';
export const CONVERSATIONS = 'conversations';

let opening: Promise<IDBDatabase> | null = null;

/** Whether this browser has IndexedDB at all (some private modes and old engines do not). */
export function hasIndexedDb(): boolean {
  return typeof globalThis.indexedDB !== 'undefined';
}

export function openDatabase(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const request = globalThis.indexedDB.open(DATABASE, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(KEYS)) db.createObjectStore(KEYS);
      if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: 'seq' });
      if (!db.objectStoreNames.contains(CONVERSATIONS)) db.createObjectStore(CONVERSATIONS);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB would not open'));
  });
  opening.catch(() => (opening = null));
  return opening;
}

/**
 * Run one request in its own transaction and resolve once the transaction is committed, so a
 * write that resolved is on disk as far as the browser promises (a reload cannot lose it).
 */
export async function transact<T>(
  storeName: string,
  mode: IDBTransactionMode,
  operation: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await openDatabase();
  return new Promise<T>((resolve, reject) => {
    const transaction = db.transaction(storeName, mode, { durability: 'strict' });
    const request = operation(transaction.objectStore(storeName));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
  });
}
