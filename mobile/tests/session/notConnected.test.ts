/**
 * The account calls of a session with no link (before the first sign-in, or after logout)
 * reject their promise: the settings screen awaits them inside try/catch and a caller that
 * chains `.catch` must get the error there too, never as a throw at the call.
 */
import { ArtpError } from '../../src/protocol/errors';
import { sessionHarness } from '../support/session';

describe('a session without a link', () => {
  it('rejects devices, rename, revoke and password change instead of throwing', async () => {
    const { session } = sessionHarness({ reconnectDelaysMs: [] });
    const calls: (() => Promise<unknown>)[] = [
      () => session.devices(),
      () => session.renameDevice('SHA256:other', 'phone'),
      () => session.revokeDevice('SHA256:other'),
      () => session.changePassword('old password', 'new password'),
    ];
    for (const call of calls) {
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = call();
      }).not.toThrow();
      await expect(pending).rejects.toThrow(ArtpError);
      await expect(pending).rejects.toThrow('not connected');
    }
  });
});
