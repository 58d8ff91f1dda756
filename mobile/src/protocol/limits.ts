/**
 * The contract's numbers, written once (PROTOCOL.md §1, §3, §9, §14). A node may advertise
 * smaller or larger values in HELLO's `limits`; these are the defaults a client assumes when it
 * does not, and the bounds requests are checked against before they leave.
 */

/** §1: a frame is 1..65535 bytes, the Noise message limit including the AEAD tag. */
export const MAX_FRAME = 65535;
/** §2: the AES-GCM tag on every transport message. */
export const AEAD_TAG = 16;
/** §3: a plaintext is at most 65519 bytes (65535 minus the 16-byte tag). */
export const MAX_PLAINTEXT = MAX_FRAME - AEAD_TAG;
/** §3: a message `content` is 1..4000 code points. */
export const MAX_CONTENT = 4000;
/** §4: image chunks are 32768 bytes before base64. */
export const CHUNK_SIZE = 32768;
/** §4: an image is at most 10 MiB. */
export const MAX_IMAGE = 10_485_760;
/** §6: HISTORY's `limit` is 1..200. */
export const MAX_HISTORY_LIMIT = 200;
/** §6: a topic is at most 390 code points. */
export const MAX_TOPIC = 390;
/** §6: a password is 8..1024 code points. */
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 1024;
/** §14.3: a device name is 1..64 characters without control characters. */
export const MAX_DEVICE_NAME = 64;
/** §14.4: a client message id is 1..64 characters of `[A-Za-z0-9_-]`. */
export const MAX_CID = 64;
/** §14.9: a reply's quote is cut to 140 code points. */
export const MAX_QUOTE = 140;
/** §14.12: at most 20 distinct emoji on a message, unless HELLO says otherwise. */
export const MAX_REACTIONS = 20;
/** §14.15: a search query is 1..256 characters; 1..50 results a page (20 unless asked). */
export const MAX_SEARCH_QUERY = 256;
export const MAX_SEARCH_LIMIT = 50;
/** §14.13: how long a TYPING lasts unless the event says, and the least time between two. */
export const TYPING_EXPIRES_MS = 6000;
export const TYPING_EVERY_MS = 3000;
/** §14.5: unread counts are capped at 9999. */
export const MAX_UNREAD = 9999;

/** HELLO's contract limits with these defaults filled in (§2: a node may leave any out). */
export const CONTRACT_LIMITS = {
  max_frame: MAX_FRAME,
  max_content: MAX_CONTENT,
  chunk_size: CHUNK_SIZE,
  max_image: MAX_IMAGE,
} as const;
