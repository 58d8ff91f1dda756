/**
 * The session's images (§4 IMG_GET, §10): each downloaded once and kept as a data URI
 * (state/imageCache bounds how many); a download cut short is kept, so the next attempt
 * resumes at the first chunk still missing.
 */
import { toBase64 } from '../protocol/bytes';
import type { ArtpClient } from '../protocol/client';
import { ArtpError, LocalErrorCode } from '../protocol/errors';
import { ImageDownload } from '../protocol/transfers';
import { ImageCache } from './imageCache';

export class Images {
  private readonly uris = new ImageCache();
  /** Image downloads cut short, kept so the next attempt resumes at the first missing chunk. */
  private readonly downloads = new Map<string, ImageDownload>();

  /** A data URI for `image`, downloaded over `client` unless held; without a link it rejects. */
  uri(client: ArtpClient | null, image: string): Promise<string> {
    const cached = this.uris.get(image);
    if (cached) return cached;
    if (!client) return Promise.reject(new ArtpError(LocalErrorCode.CLOSED, 'not connected'));
    const download = this.downloads.get(image) ?? new ImageDownload(image);
    this.downloads.set(image, download);
    const uri = download.run(client).then((found) => {
      this.downloads.delete(image);
      return `data:${found.mime};base64,${toBase64(found.bytes)}`;
    });
    this.uris.set(image, uri);
    return uri;
  }

  /** Forget the decoded images (the session closed). */
  clearUris(): void {
    this.uris.clear();
  }

  /** Forget everything: the images and the downloads cut short (logout). */
  clear(): void {
    this.uris.clear();
    this.downloads.clear();
  }
}
