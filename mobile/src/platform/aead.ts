/**
 * Web: AES-GCM from the browser's WebCrypto (constant-time). Browsers offer `crypto.subtle`
 * only in secure contexts (HTTPS, or localhost), so say so plainly when it is missing.
 */
import { type Aead, webCryptoAead } from '../protocol/aead';

export function platformAead(): Aead {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('WebCrypto is unavailable: open the app over HTTPS or localhost');
  return webCryptoAead(subtle);
}
