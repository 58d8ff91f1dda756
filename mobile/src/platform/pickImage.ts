/** Pick one image from the gallery (a file chooser on the web) as bytes. */
import * as ImagePicker from 'expo-image-picker';

import { fromBase64 } from '../protocol/bytes';
import type { ImagePick } from '../state/outbox';

export async function pickImage(): Promise<ImagePick | null> {
  const result = await ImagePicker.launchImageLibraryAsync({ mediaTypes: ['images'], base64: true, quality: 1 });
  const asset = result.canceled ? undefined : result.assets[0];
  if (!asset?.base64) return null;
  const mime = asset.mimeType ?? 'image/jpeg';
  const base64 = asset.base64.replace(/^data:[^,]*,/, '');
  return { bytes: fromBase64(base64), name: asset.fileName ?? `image.${mime.split('/')[1] ?? 'jpg'}`, mime };
}
