/**
 * Transports implement the protocol library's `Transport` (protocol/link.ts): the interface
 * lives with its consumer so that protocol/ never imports transport/.
 */
export type { Transport } from '../protocol/link';
