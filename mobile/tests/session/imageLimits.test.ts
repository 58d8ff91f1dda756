/**
 * An image over the node's limits is refused on the phone before a byte is uploaded: pixels
 * against HELLO's `max_image_pixels` (PROTOCOL.md §3 extension) and bytes against `max_image`.
 * The node here advertises small limits so that tiny test images can break them.
 */
import type { ArtpClient } from '../../src/protocol/client';
import { registeredClient, uniqueUser } from '../support/client';
import { realNodeSuite } from '../support/suite';
import { noisePng, solidPng } from '../support/png';
import { type SessionHarness, sessionHarness, until } from '../support/session';

const MAX_PIXELS = 10_000;
const MAX_BYTES = 20_000;

const suite = realNodeSuite({ settings: `[limits]\nmax_image_pixels = ${MAX_PIXELS}\nmax_image = ${MAX_BYTES}\n` });

async function phoneWithFriend(): Promise<[SessionHarness, ArtpClient, string]> {
  const harness = sessionHarness({ reconnectDelaysMs: [600_000] });
  suite.track(harness.session);
  await harness.connectAndTrust(suite.node.wsAddress);
  await harness.session.login(uniqueUser('phone'), 'correct horse battery', true);
  const [friend, name] = await registeredClient(suite.node, 'kei');
  suite.track(friend);
  await harness.session.open('user', name);
  return [harness, friend, `@${name.toLowerCase()}`];
}

describe('sending an image over the node limits', () => {
  it('refuses an image with more pixels than max_image_pixels before queueing it', async () => {
    const [me, , key] = await phoneWithFriend();
    const wide = solidPng(200, 100); // 20000 pixels in a few hundred bytes
    expect(wide.length).toBeLessThan(MAX_BYTES);
    await expect(me.session.sendImage(key, { bytes: wide, name: 'wide.png', mime: 'image/png' })).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: `TOO_LARGE: image of 200×100 = 20000 pixels exceeds this node's limit of ${MAX_PIXELS} pixels`,
    });
    expect(me.messages(key)).toEqual([]); // never queued, so no failed bubble and nothing sent
  });

  it('refuses an image of more bytes than max_image before queueing it', async () => {
    const [me, , key] = await phoneWithFriend();
    const heavy = noisePng(100, 100); // exactly the pixel limit, but ~30 KB of noise
    await expect(me.session.sendImage(key, { bytes: heavy, name: 'heavy.png', mime: 'image/png' })).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: expect.stringContaining(`image of ${heavy.length} bytes exceeds this node's limit of ${MAX_BYTES} bytes`),
    });
    expect(me.messages(key)).toEqual([]);
  });

  it('sends an image within both limits', async () => {
    const [me, friend, key] = await phoneWithFriend();
    await me.session.sendImage(key, { bytes: solidPng(100, 100), name: 'fits.png', mime: 'image/png' });
    await until('the image to be sent', () => me.messages(key).at(-1)?.status === 'sent');
    const history = await friend.request({ type: 'HISTORY', dest_type: 'user', dest: me.state().user as string, limit: 5 });
    expect(history.messages?.map((m) => m.attachment?.width)).toEqual([100]);
  });

  it('has the protocol library refuse it too, without the node ever seeing the transfer', async () => {
    const [client, name] = await registeredClient(suite.node, 'alice');
    suite.track(client);
    const upload = { bytes: solidPng(200, 100), name: 'wide.png', mime: 'image/png', destType: 'user' as const, dest: name };
    await expect(client.uploadImage(upload, { transfer: 'too-wide' })).rejects.toMatchObject({ code: 'TOO_LARGE' });
    // A transfer the node refused would be remembered as failed (§10); this one is unknown to it.
    await expect(client.request({ type: 'IMG_STATUS', transfer: 'too-wide' })).resolves.toMatchObject({ received: [] });
  });
});
