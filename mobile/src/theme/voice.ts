/**
 * Arona's voice, as in the terminal client (src/aronanet/tui/voice.py): cheerful, short and
 * honest. Whenever something fails, its real code is part of the line.
 */
import { explain } from '../protocol/moderation';
import { ArtpError } from '../protocol/errors';
import type { DeviceKeyStorage } from '../platform/deviceKeyTypes';
import type { LinkProblem } from '../state/chat';
import { shortName } from '../state/community';
import type { ComposeProblem } from '../state/compose';

export const HALO = '˚ ✧ ◯ ✧ ˚';

export const voice = {
  welcome: 'Hello, Sensei! Which node shall we visit today?',
  firstSight: (address: string) =>
    `First visit to ${address}, Sensei! Compare this fingerprint with the one the node's owner gave you ` +
    "(`aronanet fingerprint` on the node). If you trust it, I will remember it and warn you loudly if it ever changes.",
  keyChangedBrief: (address: string) =>
    `Sensei, careful! The key of ${address} changed: I remembered the first fingerprint, it now shows the second. ` +
    'That can mean someone is in the middle. Only trust it if you know why.',
  insecurePage:
    'Sensei, this page came over plain HTTP from another machine: anyone on the way could have changed it, ' +
    "including the code that checks the node's key. Ask the node's owner for its https:// address.",
  keyChanged: (address: string, pinned: string, presented: string) =>
    `Sensei, careful! The key of ${address} changed: I remembered ${pinned}, it now shows ${presented}. ` +
    'That can mean someone is in the middle. Only trust it if you know why.',
  connected: (node: string, address: string) => `Sensei, you are connected to ${node} (${address})!`,
  pickConversation: 'Pick a conversation on the left, Sensei, or press Ctrl+K to find one.',
  noConversations: 'No conversations yet, Sensei. Join a channel or write to someone!',
  link: {
    connecting: 'Reconnecting to the node, Sensei… I will catch up on everything we missed!',
    offline: "Sensei, we lost the link to the node. I'll keep trying; your messages wait safely here.",
  },
  /** Failover (state/community): signed in, caught up and the outbox sent on another node. */
  moved: (address: string) => `Moved to ${shortName(address)} — nothing was lost, Sensei!`,
  /** Why reconnecting stopped, in Arona's words (the session hands over the facts). */
  linkProblem: (problem: LinkProblem): string =>
    problem.kind === 'keyChanged'
      ? voice.keyChanged(problem.address, problem.pinned, problem.presented)
      : 'Sensei, the node no longer accepts this device (AUTH_FAILED). Please log in again with your password.',
  composeProblem: (problem: ComposeProblem): string =>
    problem === 'empty-action' ? 'Sensei, say what you do after /me, like "/me waves".' : problem,
  deviceKey: (storage: DeviceKeyStorage, reason?: string): string =>
    storage === 'webcrypto'
      ? "This device's key is a non-extractable WebCrypto key in this browser's IndexedDB: the app can use it, no script can read it out."
      : storage === 'secure-store'
        ? "This device's key is in the phone's secure storage (Android Keystore / iOS Keychain)."
        : "Sensei, this browser cannot keep the device key as a protected WebCrypto key" +
          (reason ? ` (${reason})` : '') +
          ", so it is stored as plain bytes in this site's local storage: any script running on this page could read it. " +
          'Use a Chromium-based browser to keep it safer.',
  /** §14.21: the node says only AUTH_FAILED, whether the token is unknown, used or expired. */
  resetRefused: (error: unknown) =>
    "Sorry Sensei, that reset token is unknown, used or expired. Please ask your node's admin for a new one!" +
    (error instanceof Error ? ` — ${error.message}` : ''),
  passwordChanged: 'Password changed, Sensei! Every other device has to sign in with the new one.',
  deviceRevoked: (name: string) => `${name} is signed out, Sensei. It needs the password to come back.`,
  messageGone: "Sensei, I can't find that message any more: it may have been deleted, or it is too far back to fetch.",
  noSearchResults: (query: string) => `Nothing matches “${query}”, Sensei. Try fewer or shorter words, or word* for a prefix.`,
  beginning: (name: string) => `That's the very beginning of ${name}, Sensei.`,
  insecureWeb:
    'Sensei, this browser only gives me safe encryption over HTTPS or on this computer (localhost). ' +
    'Please open the node through HTTPS.',
  failure: (action: string, error: unknown) => {
    if (error instanceof ArtpError) {
      // §14.16-14.21: a moderation refusal says what it means (the code stays in the message).
      const meaning = explain(error.code);
      return meaning ? `Sorry Sensei, ${action} failed: ${meaning} — ${error.message}` : `Sorry Sensei, ${action} failed — ${error.message}`;
    }
    const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return `Sorry Sensei, ${action} failed — ${described}`;
  },
};
