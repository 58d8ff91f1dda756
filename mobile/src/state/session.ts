/**
 * One chat session: the protocol client bound to the chat reducer. The screens call its verbs;
 * it dispatches what happened.
 *
 * Signing in (PROTOCOL.md §14.3): a password once per device; afterwards the device key alone
 * (AUTH without password), on every reconnect and after a restart of the app, which remembers
 * the node and user (`AccountMemory`), never the password. After every sign-in it lists every
 * conversation (CONVERSATIONS, §14.5), catches each up with HISTORY after the last id it has
 * (page after page, so no gap), then sends what waits in the outbox, in order, each message
 * with its client id (§14.4), so a resend is never posted twice. Until all that is done, new
 * messages wait in the outbox. When the link drops it reconnects with backoff (sooner when the
 * platform says the network is back).
 */
import { toBase64 } from '../protocol/bytes';
import { ArtpClient, type NodeLimits, type ServerEvent } from '../protocol/client';
import type { Aead } from '../protocol/aead';
import { ArtpError, KeyChangedError, LocalErrorCode } from '../protocol/errors';
import type { DestType, DeviceInfo, ModerationEvent, ModerationRequest, MsgEvent, SearchResult } from '../protocol/messages';
import { TYPING_EXPIRES_MS } from '../protocol/limits';
import type { KeyPair } from '../protocol/noise';
import type { StaticKey } from '../protocol/staticKey';
import { checkImageLimits, ImageDownload } from '../protocol/transfers';
import type { Transport } from '../protocol/link';
import { AccountMemory, changePassword, listDevices, renameDevice, revokeDevice } from './account';
import { Backoff } from './backoff';
import { type CacheLimits, cachedFor, CacheWriter, type ConversationStore, memoryConversationStore } from './cache';
import {
  CATCH_UP_PAGE,
  catchUpChanges,
  catchUpConversation,
  history,
  HISTORY_PAGE,
  listConversations,
  loadAround,
} from './catchUp';
import type { ChatAction, ChatState, LinkProblem } from './chat';
import { conversationKey, messageIds, newestMessageId } from './conversations';
import { quoteText, reactedBy } from './lifecycle';
import { newerRev } from './merge';
import { TypingNotifier } from './typing';
import { ImageCache } from './imageCache';
import type { KnownNodes, PinResult } from './knownNodes';
import { Community, firstReachable, type LearnedCommunity } from './community';
import { type ImagePick, memoryOutboxStore, Outbox, type OutboxStore } from './outbox';
import { sameName } from './names';
import { Sending } from './sending';

export type { ImagePick } from './outbox';
export { CATCH_UP_PAGE, HISTORY_PAGE } from './catchUp';

export interface SessionDeps {
  readonly aead: Aead;
  readonly random: (length: number) => Uint8Array;
  /** The device key: raw bytes, or a non-extractable platform key (`StaticKey`). */
  readonly deviceKey: KeyPair | StaticKey;
  readonly knownNodes: KnownNodes;
  readonly openTransport: (address: string) => Promise<Transport>;
  readonly dispatch: (action: ChatAction) => void;
  readonly getState: () => ChatState;
  /** Where the signed-in account is remembered; in memory (forgotten on exit) by default. */
  readonly accounts: AccountMemory;
  /** The persistent outbox; in memory by default. */
  readonly outboxStore?: OutboxStore;
  /** What the device keeps of the conversations for opening offline; in memory by default. */
  readonly conversationStore?: ConversationStore;
  readonly cacheLimits?: CacheLimits;
  /** How long after a change the conversation cache is written (ms). */
  readonly cacheDelayMs?: number;
  readonly clientName?: string;
  /** §14.3 `device_name`: what the devices list calls this device. */
  readonly deviceName?: string;
  readonly backoff?: Backoff;
  readonly catchUpPage?: number;
  /** How long "Moved to h2" stays after a failover (ms). */
  readonly movedNoticeMs?: number;
}

/** Long enough to be read, short enough not to become wallpaper. */
export const MOVED_NOTICE_MS = 15_000;

/** §14.21: the one-time tokens an AUTH can carry. */
export interface AuthTokens {
  /** An invitation, for a registration on an invite-only node. */
  readonly invite?: string;
  /** A password reset token: the AUTH's password becomes the account's new one. */
  readonly reset?: string;
}

export interface ConnectResult {
  readonly node: string;
  /** Which address of the community's list answered. */
  readonly address: string;
  readonly fingerprint: string;
  readonly pin: PinResult;
}

/** How `resume()` ended: no account saved, signed in, waiting for the node, or the password is needed. */
export type ResumeResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'signed-in' }
  | { readonly kind: 'offline' }
  | { readonly kind: 'needs-password'; readonly user: string; readonly address: string; readonly node: ConnectResult };

const SYNC = 'sync';
const LIFECYCLE = 'lifecycle';

/** One page of search results (§14.15), newest first; `next` asks for the page after. */
export interface SearchPage {
  readonly results: readonly SearchResult[];
  readonly next?: string;
}

/** Where a search looks: everywhere the user can read, or one conversation. */
export type SearchScope = { readonly destType: DestType; readonly dest: string } | null;

export class ChatSession {
  private client: ArtpClient | null = null;
  /** The community's addresses (state/community) and the one in use. */
  private readonly nodes = new Community();
  private node: ConnectResult | null = null;
  /** Who is signed in; `password` is kept only for a node without `sync` (ArTP/1.0). */
  private account: { user: string; password?: string } | null = null;
  /** §14.3: this device's id on the node, from AUTH's OK. */
  private deviceId: string | null = null;
  private readonly outbox: Outbox;
  private readonly sending: Sending;
  private readonly images = new ImageCache();
  /** Image downloads cut short, kept so the next attempt resumes at the first missing chunk. */
  private readonly downloads = new Map<string, ImageDownload>();
  /** HELLO's limits of the node last connected to, for checks made while offline. */
  private limits: NodeLimits | null = null;
  /** The read marker last sent per conversation, so viewing sends READ once per new message. */
  private readonly readSent = new Map<string, string>();
  /** The conversation on screen scrolled to its newest message, if any: the only one READ moves. */
  private atNewest: string | null = null;
  private readonly cache: CacheWriter;
  private readonly backoff: Backoff;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** True from a reconnect's first byte until its outbox is flushed. */
  private recovering = false;
  /** A reconnect cannot succeed without the user (changed key, refused sign-in). */
  private gaveUp = false;
  private stopped = false;
  private readonly typingNotifier: TypingNotifier;
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  private movedTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly deps: SessionDeps) {
    this.typingNotifier = new TypingNotifier((destType, dest, typing) => {
      const client = this.client;
      if (!client?.features.has(LIFECYCLE)) return;
      client.request({ type: 'TYPING', dest_type: destType, dest, typing }).catch(() => undefined);
    });
    this.backoff = deps.backoff ?? new Backoff();
    this.outbox = new Outbox(deps.outboxStore ?? memoryOutboxStore(), deps.random);
    this.cache = new CacheWriter(deps.conversationStore ?? memoryConversationStore(), deps.cacheLimits, deps.cacheDelayMs);
    this.sending = new Sending({
      outbox: this.outbox,
      dispatch: deps.dispatch,
      getState: deps.getState,
      client: () => this.client,
      canSend: () => this.client !== null && !this.recovering,
    });
  }

  /**
   * Connect and handshake to the first reachable address of `addresses` (one, or a
   * community's comma-separated list, tried in order); the node key is pinned on first use
   * and refused if it changed (at any address of the list: they present one key). With
   * `pinned` (an invitation link's `fp`, §14.21) a first-use key is accepted without a
   * question only if it is that key; any other key is refused (KEY_MISMATCH).
   */
  async connect(addresses: string, pinned?: string): Promise<ConnectResult> {
    this.nodes.use(addresses);
    const { addresses: list } = this.nodes;
    const { value } = await firstReachable(list, this.nodes.firstOrder(), (address) => this.connectTo(address, pinned), isKeyProblem);
    return value;
  }

  /**
   * The node serving the app (at `learned.origin`) named its community's other addresses:
   * a list with that node in it fails over to them too, and the account remembers them.
   */
  async learnAddresses(learned: LearnedCommunity): Promise<void> {
    if (!this.nodes.learn(learned)) return;
    const saved = await this.deps.accounts.load();
    if (saved && this.account && saved.user === this.account.user) await this.deps.accounts.save({ ...saved, address: this.nodes.toString() });
  }

  /** The community's addresses as the session knows them now, and the one in use. */
  get community(): { readonly addresses: readonly string[]; readonly current: string | null } {
    return { addresses: this.nodes.addresses, current: this.nodes.current };
  }

  private async connectTo(address: string, pinned?: string): Promise<ConnectResult> {
    let pin: PinResult = 'match';
    const community = this.nodes.addresses;
    const client = await ArtpClient.connect({
      transport: await this.deps.openTransport(address),
      aead: this.deps.aead,
      random: this.deps.random,
      staticKey: this.deps.deviceKey,
      clientName: this.deps.clientName ?? 'aronanet-mobile/0.2',
      verifyNode: async (fingerprint) => {
        if (pinned !== undefined && fingerprint !== pinned) {
          throw new ArtpError('KEY_MISMATCH', `the node presented ${fingerprint}, but the invitation names ${pinned}: refused`);
        }
        pin = await this.deps.knownNodes.check(address, fingerprint, community);
        if (pinned !== undefined && pin === 'first-use') {
          await this.deps.knownNodes.accept(community, fingerprint);
          pin = 'match';
        }
      },
    });
    this.attach(client, address);
    this.node = { node: client.hello.node, address, fingerprint: client.nodeFingerprint, pin };
    return this.node;
  }

  /**
   * Password login (or registration) on the connected node; remembered for device sign-in.
   * `tokens.invite` goes with a registration on an invite-only node, `tokens.reset` (§14.21,
   * from `aronanet admin reset-password`) makes `password` the account's new password.
   */
  async login(user: string, password: string, register: boolean, tokens: AuthTokens = {}): Promise<void> {
    const client = this.requireClient();
    await this.authenticate(client, user, password, register, tokens);
    const signedIn = this.account?.user ?? user;
    const previous = await this.deps.accounts.load();
    const fingerprint = this.node?.fingerprint;
    // What another account, or the same name in another community (another key), left unsent
    // (or kept) is not this one's to send (or show). Another address of the same community is
    // the same place: its outbox and conversations stay.
    const elsewhere = previous?.fingerprint !== undefined && fingerprint !== undefined && previous.fingerprint !== fingerprint;
    if (previous && (!sameName(previous.user, signedIn) || elsewhere)) await Promise.all([this.outbox.clear(), this.cache.clear()]);
    await this.deps.accounts.save({ address: this.nodes.toString(), user: signedIn, ...(fingerprint ? { fingerprint } : {}) });
    await this.sending.restore();
    await this.afterSignIn(client);
    this.deps.dispatch({ type: 'linkChanged', link: 'online' });
  }

  /**
   * Sign in again as the account this device remembers, with the device key alone. Shows the
   * account at once (what waits in the outbox included) and keeps trying in the background when
   * the node is unreachable; asks for the password only when the node refuses the device.
   */
  async resume(): Promise<ResumeResult> {
    const saved = await this.deps.accounts.load();
    if (!saved) return { kind: 'none' };
    this.nodes.use(saved.address);
    this.account = { user: saved.user };
    this.deps.dispatch({ type: 'loggedIn', user: saved.user, channels: [] });
    const cached = cachedFor(await this.cache.load(), saved.user);
    if (cached.length > 0) this.deps.dispatch({ type: 'cacheRestored', conversations: cached });
    await this.sending.restore();
    this.recovering = true; // what is typed meanwhile waits until the outbox went out
    try {
      await this.connect(saved.address);
      const client = this.requireClient();
      await this.authenticate(client, saved.user);
      await this.afterSignIn(client);
      this.deps.dispatch({ type: 'linkChanged', link: 'online' });
      return { kind: 'signed-in' };
    } catch (error) {
      this.recovering = false;
      if (error instanceof ArtpError && error.code === 'AUTH_FAILED' && this.node) {
        // The device was revoked or never signed in here: the password, once.
        this.account = null;
        this.deps.dispatch({ type: 'loggedOut' });
        return { kind: 'needs-password', user: saved.user, address: saved.address, node: this.node };
      }
      this.failedToReconnect(error);
      return { kind: 'offline' };
    }
  }

  /**
   * The node refused this device (revoked elsewhere, or the password changed there): connect
   * again for a password login as the same user, keeping what waits in the outbox. Resolves
   * with the node, for the login screen.
   */
  async passwordLogin(): Promise<{ node: ConnectResult; address: string; user: string }> {
    const saved = await this.deps.accounts.load();
    const address = saved?.address ?? this.nodes.toString();
    if (!address || !saved) throw new ArtpError(LocalErrorCode.CLOSED, 'no account to sign in to');
    this.disconnect();
    this.gaveUp = false;
    const node = await this.connect(address);
    this.deps.dispatch({ type: 'loggedOut' });
    return { node, address, user: saved.user };
  }

  /**
   * Sign out: forget the account, the outbox and the cached images on this device; with
   * `revoke`, first revoke this device on the node (its key can no longer sign in, §14.3).
   */
  async logout(options: { revoke?: boolean } = {}): Promise<void> {
    if (options.revoke && this.client && this.deviceId) {
      await revokeDevice(this.client, this.deviceId).catch(() => undefined);
    }
    this.disconnect();
    this.deviceId = null;
    this.gaveUp = false;
    this.readSent.clear();
    this.atNewest = null;
    this.images.clear();
    this.downloads.clear();
    await Promise.all([this.deps.accounts.forget(), this.outbox.clear(), this.cache.clear()]);
    this.deps.dispatch({ type: 'loggedOut' });
  }

  /**
   * Drop the link and forget the node and who was signed in on it (the user refused a
   * first-use key, or went back from the login screen). Nothing reconnects until `connect`.
   */
  disconnect(): void {
    this.cancelRetry();
    const client = this.client;
    this.client = null;
    this.nodes.clear();
    this.account = null;
    client?.close();
  }

  /** This device's id (`SHA256:…`) once signed in on a node with `sync`. */
  get currentDevice(): string | null {
    return this.deviceId;
  }

  devices(): Promise<DeviceInfo[]> {
    return listDevices(this.requireClient());
  }

  renameDevice(device: string, name: string): Promise<string> {
    return renameDevice(this.requireClient(), device, name);
  }

  /** Revoke one of the user's devices; revoking this one is a logout that revokes. */
  revokeDevice(device: string): Promise<void> {
    if (device === this.deviceId) return this.logout({ revoke: true });
    return revokeDevice(this.requireClient(), device);
  }

  changePassword(old: string, next: string): Promise<void> {
    return changePassword(this.requireClient(), old, next);
  }

  /**
   * Open a conversation: JOIN a channel first when its members are not known yet (a member's
   * JOIN is answered with the same OK, topic and members, and causes no event, §6), then load
   * its latest page if no message is shown yet.
   */
  async open(destType: DestType, dest: string): Promise<void> {
    const key = conversationKey(destType, dest);
    const known = this.deps.getState().conversations[key];
    const held = known !== undefined && messageIds(known).length > 0;
    // Offline, a conversation the device kept opens read-only, members or not.
    if (destType === 'channel' && !known?.members && (this.client !== null || !held)) {
      const ok = await this.requireClient().request({ type: 'JOIN', channel: dest });
      this.deps.dispatch({ type: 'channelJoined', channel: dest, topic: ok.topic ?? '', members: ok.members ?? [] });
      await this.loadRoster(dest).catch(() => undefined);
    }
    if (held) {
      this.deps.dispatch({ type: 'conversationOpened', destType, dest });
      return;
    }
    // Ask first, open after: a DM to a user who does not exist fails here (NO_SUCH_USER) and
    // leaves no blank conversation behind.
    const messages = await history(this.requireClient(), destType, dest, HISTORY_PAGE, {});
    this.deps.dispatch({ type: 'conversationOpened', destType, dest });
    this.deps.dispatch({ type: 'historyLoaded', key, messages, older: true });
  }

  // ------------------------------------------------------------------ moderation (§14.16-14.19)

  /**
   * CHANNEL_INFO: every member's role and the modes (a node without moderation: nothing). A
   * roster longer than one message comes in pages: asked again with `cursor: next` until no `next`.
   */
  async loadRoster(channel: string): Promise<void> {
    const client = this.requireClient();
    if (!client.features.has('moderation')) return;
    const first = await client.request({ type: 'CHANNEL_INFO', channel });
    const roster = [...(first.roster ?? [])];
    let page = first;
    while (typeof page.next === 'string' && (page.roster ?? []).length > 0) {
      page = await client.request({ type: 'CHANNEL_INFO', channel, cursor: page.next });
      roster.push(...(page.roster ?? []));
    }
    this.deps.dispatch({ type: 'rosterLoaded', channel, roster, modes: first.modes ?? {} });
  }

  /**
   * One moderator's request. The node sends MODERATION to everyone concerned but the asking
   * session (§14.19), so its OK is told here as that event: one way to show it, whoever did it.
   */
  async moderate(request: ModerationRequest): Promise<void> {
    const ok = await this.requireClient().request(request);
    const me = this.deps.getState().user ?? '';
    const base = { type: 'MODERATION' as const, id: `own-moderation:${Date.now()}:${Math.random()}`, channel: request.channel, by: me, timestamp: Math.floor(Date.now() / 1000) };
    const event: ModerationEvent =
      request.type === 'MODE'
        ? { ...base, action: 'mode', modes: ok.modes ?? {} }
        : request.type === 'ROLE'
          ? { ...base, action: 'role', user: request.user, role: request.role }
          : request.type === 'MUTE'
            ? { ...base, action: request.seconds > 0 ? 'mute' : 'unmute', user: request.user, ...(ok.until ? { until: ok.until } : {}), ...(request.reason ? { reason: request.reason } : {}) }
            : { ...base, action: request.type === 'KICK' ? 'kick' : request.type === 'BAN' ? 'ban' : 'unban', user: request.user, ...('reason' in request && request.reason ? { reason: request.reason } : {}) };
    this.deps.dispatch({ type: 'moderated', event });
  }

  /** BLOCK or unblock `user` (§14.19); their channel messages are hidden while blocked. */
  async block(user: string, blocked: boolean): Promise<void> {
    const client = this.requireClient();
    await client.request({ type: 'BLOCK', user, blocked });
    await this.loadBlocks();
  }

  async loadBlocks(): Promise<void> {
    const client = this.requireClient();
    if (!client.features.has('moderation')) return;
    const ok = await client.request({ type: 'BLOCKS' });
    this.deps.dispatch({ type: 'blocksLoaded', users: ok.blocks ?? [] });
  }

  /** Leave a channel (PART, §6): it leaves the list here and on the user's other devices. */
  async leave(key: string): Promise<void> {
    const conversation = this.deps.getState().conversations[key];
    if (conversation?.destType === 'channel') {
      await this.requireClient().request({ type: 'PART', channel: conversation.dest });
    }
    this.deps.dispatch({ type: 'conversationLeft', key });
  }

  /** Back to the conversation list. */
  closeConversation(): void {
    this.atNewest = null;
    this.typingNotifier.stopped();
    this.deps.dispatch({ type: 'conversationClosed' });
  }

  /**
   * The chat screen says whether conversation `key` is on screen scrolled to its newest
   * message (§14.6): only then is it read, now and whenever a new message arrives there.
   */
  viewing(key: string, atNewest: boolean): void {
    if (atNewest) {
      this.atNewest = key;
      void this.markRead(key);
    } else if (this.atNewest === key) {
      this.atNewest = null;
    }
  }

  /** The chat state changed: keep the conversations on the device (a moment later, bounded). */
  stateChanged(state: ChatState): void {
    if (state.user && this.account) this.cache.changed(state);
  }

  /**
   * The conversation is on screen at its newest message (§14.6): move the read marker there,
   * on the node, so the user's other devices agree. Without a link or `sync` it waits until
   * the conversation is viewed again.
   */
  async markRead(key: string): Promise<void> {
    const conversation = this.deps.getState().conversations[key];
    const client = this.client;
    if (!conversation || !client || !client.features.has(SYNC)) return;
    const newest = newestMessageId(conversation);
    if (newest === undefined || conversation.read === newest || this.readSent.get(key) === newest) return;
    this.readSent.set(key, newest);
    const { destType, dest } = conversation;
    try {
      const ok = await client.request({ type: 'READ', dest_type: destType, dest, up_to: newest });
      this.deps.dispatch({ type: 'readMarked', destType, dest, read: ok.read ?? newest });
    } catch {
      this.readSent.delete(key); // sent again when next viewed
    }
  }

  /**
   * Load the page before the oldest message shown (history loading on scroll). §6: "a client
   * pages on ... until it gets an empty list", so the beginning is reached only then.
   */
  async loadOlder(key: string): Promise<void> {
    const conversation = this.deps.getState().conversations[key];
    if (!conversation || conversation.reachedStart) return;
    const oldest = messageIds(conversation)[0];
    const { destType, dest } = conversation;
    const messages = await history(this.requireClient(), destType, dest, HISTORY_PAGE, oldest ? { before: oldest } : {});
    this.deps.dispatch({ type: 'historyLoaded', key, messages, older: true });
  }

  /**
   * Send a text. It shows as pending at once and is in the persistent outbox before anything
   * else happens; without a link it goes out after the reconnect. A refusal marks it failed with
   * the node's code (never thrown).
   */
  sendText(key: string, content: string, replyTo?: string): Promise<void> {
    this.typingNotifier.stopped();
    if (replyTo === undefined) return this.sending.enqueue(key, { content });
    const quoted = this.deps.getState().conversations[key]?.messages.find((m) => m.id === replyTo);
    const reply = quoted ? { id: replyTo, from: quoted.from, content: quoteText(quoted.content) } : undefined;
    return this.sending.enqueue(key, { content, replyTo, reply });
  }

  /** §14.10: change the text of my message `id`; shown at once when the node says OK. */
  async editMessage(key: string, id: string, content: string): Promise<void> {
    const ok = await this.requireClient().request({ type: 'EDIT', msg_id: id, content });
    this.deps.dispatch({ type: 'ownEdit', key, id, content, edited: ok.edited ?? Math.floor(Date.now() / 1000) });
  }

  /** §14.11: delete my message `id` for everyone; it stays as a "Message deleted" line. */
  async deleteMessage(key: string, id: string): Promise<void> {
    await this.requireClient().request({ type: 'DELETE', msg_id: id });
    this.deps.dispatch({ type: 'ownDelete', key, id, deleted: Math.floor(Date.now() / 1000) });
  }

  /** §14.12: add my `emoji` to message `id`, or take it back if it is there already. */
  async toggleReaction(key: string, id: string, emoji: string): Promise<void> {
    const state = this.deps.getState();
    const message = state.conversations[key]?.messages.find((m) => m.id === id);
    const added = !(message && reactedBy(message, emoji, state.user ?? ''));
    const ok = await this.requireClient().request({ type: added ? 'REACT' : 'UNREACT', msg_id: id, emoji });
    this.deps.dispatch({ type: 'ownReaction', key, id, emoji, added, count: ok.count ?? 0 });
  }

  /** The draft of conversation `key` changed (§14.13: the others see "typing…"). */
  draftChanged(key: string, draft: string): void {
    const conversation = this.deps.getState().conversations[key];
    if (conversation) this.typingNotifier.changed(conversation.destType, conversation.dest, draft);
  }

  /** §14.15: search the messages the user can read (or one conversation), newest first. */
  async search(query: string, scope: SearchScope = null, before?: string): Promise<SearchPage> {
    const where = scope ? { dest_type: scope.destType, dest: scope.dest } : {};
    const ok = await this.requireClient().request({ type: 'SEARCH', query, ...where, ...(before !== undefined ? { before } : {}) });
    return { results: ok.results ?? [], ...(typeof ok.next === 'string' ? { next: ok.next } : {}) };
  }

  /**
   * Make message `id` of conversation `key` present (§14.9 HISTORY `around`), for a jump to a
   * quoted message or a search result. Resolves false when it cannot be brought in.
   */
  async bringIntoView(key: string, id: string): Promise<boolean> {
    const conversation = this.deps.getState().conversations[key];
    if (!conversation) return false;
    if (messageIds(conversation).includes(id)) return true;
    return loadAround(this.requireClient(), conversation, id, this.deps.dispatch);
  }

  /**
   * Send an image (§4 upload); like `sendText`, and resumed where it stopped after a drop. An
   * image over the node's byte or pixel limit is refused here, before it is queued (TOO_LARGE).
   */
  sendImage(key: string, image: ImagePick): Promise<void> {
    try {
      if (this.limits) checkImageLimits(image.bytes, this.limits);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.sending.enqueue(key, { content: '', image });
  }

  /** Try a failed message again (the user tapped it). */
  retry(key: string, localKey: string): Promise<void> {
    return this.sending.retry(key, localKey);
  }

  /**
   * A data URI for an image, downloaded once (§4 IMG_GET; the bytes are checked against their
   * SHA-256, so a copy stays good across reconnects). Without a link it rejects, and the next
   * call tries again, resuming at the first chunk still missing (`start`, §10).
   */
  imageUri(image: string): Promise<string> {
    const cached = this.images.get(image);
    if (cached) return cached;
    const client = this.client;
    if (!client) return Promise.reject(new ArtpError(LocalErrorCode.CLOSED, 'not connected'));
    const download = this.downloads.get(image) ?? new ImageDownload(image);
    this.downloads.set(image, download);
    const uri = download.run(client).then((found) => {
      this.downloads.delete(image);
      return `data:${found.mime};base64,${toBase64(found.bytes)}`;
    });
    this.images.set(image, uri);
    return uri;
  }

  /** The network came back (NetInfo, or the browser's `online`): reconnect now. */
  networkAvailable(): void {
    if (this.client !== null || this.nodes.addresses.length === 0 || this.stopped || this.gaveUp) return;
    this.cancelRetry();
    this.backoff.reset();
    void this.reconnect();
  }

  /**
   * Try to reconnect now, whatever the timer says: the user pressed "retry now", or the tab
   * became visible again (a phone browser freezes background timers). No-op while linked.
   */
  retryNow(): void {
    this.networkAvailable();
  }

  /** The network went away: no point retrying until it is back. */
  networkLost(): void {
    if (this.client !== null || this.nodes.addresses.length === 0 || this.stopped || this.gaveUp) return;
    this.cancelRetry();
    this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
  }

  close(): void {
    this.stopped = true;
    this.cancelRetry();
    if (this.typingTimer) clearTimeout(this.typingTimer);
    if (this.movedTimer) clearTimeout(this.movedTimer);
    void this.cache.flush();
    this.client?.close();
    this.client = null;
    this.images.clear();
  }

  // ------------------------------------------------------------------------- signing in

  /** AUTH with the password, or (without one, §14.3) a device sign-in. */
  private async authenticate(client: ArtpClient, user: string, password?: string, register = false, tokens: AuthTokens = {}): Promise<void> {
    const sync = client.features.has(SYNC);
    const named = sync && password !== undefined && this.deps.deviceName ? { device_name: this.deps.deviceName } : {};
    const secret = password !== undefined ? { password } : {};
    const invited = register && tokens.invite ? { invite: tokens.invite } : {};
    const reset = !register && password !== undefined && tokens.reset ? { reset: tokens.reset } : {};
    const ok = await client.request({ type: 'AUTH', user, ...secret, ...(register ? { register } : {}), ...named, ...invited, ...reset });
    const signedIn = ok.user ?? user;
    // A node without `sync` has no device sign-in: its reconnects need the password again.
    this.account = { user: signedIn, ...(sync ? {} : { password }) };
    this.deviceId = ok.device ?? null;
    this.deps.dispatch({ type: 'loggedIn', user: signedIn, channels: ok.channels ?? [] });
  }

  /** Signing in again after a reconnect: the device key on a `sync` node, else the password. */
  private reauthenticate(client: ArtpClient, account: { user: string; password?: string }): Promise<void> {
    if (!client.features.has(SYNC) && account.password === undefined) {
      throw new ArtpError('AUTH_FAILED', 'this node has no device sign-in: log in with your password');
    }
    return this.authenticate(client, account.user, client.features.has(SYNC) ? undefined : account.password);
  }

  /** Every conversation listed (§14.5), each caught up, then the outbox sent, in order. */
  private async afterSignIn(client: ArtpClient): Promise<void> {
    this.recovering = true;
    // What was here at sign-in: the anchors of the catch-up. A live message arriving while it
    // runs must not become an anchor, or what came before it would be skipped.
    const atSignIn = this.deps.getState().conversations;
    try {
      // §14.19: blocks first, so that a blocked user's channel messages are hidden as pages land.
      await this.loadBlocks().catch(() => undefined);
      // §14.5: the node's newest id per conversation; one that is already here needs no HISTORY.
      const newestOnNode = new Map<string, string | undefined>();
      const revOnNode = new Map<string, string | undefined>();
      if (client.features.has(SYNC)) {
        const listed = await listConversations(client);
        for (const info of listed) {
          newestOnNode.set(conversationKey(info.dest_type, info.dest), info.last_id);
          revOnNode.set(conversationKey(info.dest_type, info.dest), info.rev);
        }
        this.deps.dispatch({ type: 'conversationsListed', conversations: listed });
      }
      const caughtUp = new Map<string, MsgEvent[]>();
      const pageSize = this.deps.catchUpPage ?? CATCH_UP_PAGE;
      for (const current of Object.values(this.deps.getState().conversations)) {
        const conversation = atSignIn[current.key] ?? current;
        const newest = newestMessageId(conversation);
        if (newest !== undefined && newestOnNode.has(conversation.key) && newestOnNode.get(conversation.key) === newest) continue;
        caughtUp.set(conversation.key, await catchUpConversation(client, conversation, this.deps.dispatch, pageSize));
      }
      // §14.14: then what changed among the messages held (edits, deletes, reactions made
      // while away), since the newest change seen before this sign-in.
      if (client.features.has(LIFECYCLE)) {
        for (const current of Object.values(this.deps.getState().conversations)) {
          const since = atSignIn[current.key]?.rev;
          if (since === undefined || messageIds(current).length === 0) continue;
          const onNode = revOnNode.get(current.key);
          if (onNode !== undefined && !newerRev(onNode, since)) continue;
          await catchUpChanges(client, current, since, this.deps.dispatch, pageSize);
        }
      }
      this.sending.settleInterrupted(client, caughtUp);
      await this.sending.flush();
    } finally {
      this.recovering = false;
    }
    const active = this.deps.getState().active;
    if (active && active === this.atNewest) void this.markRead(active);
  }

  // ---------------------------------------------------------------------- reconnecting

  private attach(client: ArtpClient, address: string): void {
    this.client = client;
    this.limits = client.limits;
    this.nodes.reached(address);
    this.gaveUp = false;
    client.onEvent((event) => this.handleEvent(event));
    client.onClose(() => this.linkLost(client));
  }

  private handleEvent(event: ServerEvent): void {
    if (event.type === 'MSG') this.deps.dispatch({ type: 'messageReceived', message: event });
    else if (event.type === 'READ') {
      this.deps.dispatch({ type: 'readMarked', destType: event.dest_type, dest: event.dest, read: event.read });
    } else if (event.type === 'JOIN' || event.type === 'PART' || event.type === 'TOPIC') {
      this.deps.dispatch({ type: 'channelEvent', event });
    } else if (event.type === 'EDIT') {
      this.deps.dispatch({ type: 'messageEdited', event });
    } else if (event.type === 'DELETE') {
      this.deps.dispatch({ type: 'messageDeleted', event });
    } else if (event.type === 'REACTION') {
      this.deps.dispatch({ type: 'reactionChanged', event });
    } else if (event.type === 'MODERATION') {
      this.deps.dispatch({ type: 'moderated', event });
    } else if (event.type === 'TYPING') {
      this.deps.dispatch({ type: 'typingChanged', event, now: Date.now() });
      this.expireTypingIn(event.expires_ms ?? TYPING_EXPIRES_MS);
    }
  }

  /** §14.13: "typing…" goes when its time runs out; one timer, for the soonest. */
  private expireTypingIn(ms: number): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      const now = Date.now();
      this.deps.dispatch({ type: 'typingExpired', now });
      const next = Object.values(this.deps.getState().typing).flat().map((t) => t.until - now);
      if (next.length > 0) this.expireTypingIn(Math.max(50, Math.min(...next)));
    }, ms + 50);
  }

  private linkLost(client: ArtpClient): void {
    if (this.client !== client || this.stopped) return;
    this.client = null;
    this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
    // Another node of the community may be up: try it at once; the backoff is for full cycles.
    if (this.nodes.several) void this.reconnect();
    else this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.retryTimer || this.stopped || this.gaveUp) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.reconnect();
    }, this.backoff.next());
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /**
   * One cycle over the community's addresses, round-robin from the one that failed (it is
   * tried last): connect, sign in, catch up, flush the outbox. The backoff waits only after
   * the whole cycle failed; a changed key or a refused device stops the retries.
   */
  private async reconnect(): Promise<void> {
    if (this.nodes.addresses.length === 0 || this.client || this.stopped || this.recovering) return;
    this.deps.dispatch({ type: 'linkChanged', link: 'connecting' });
    this.recovering = true; // what is typed meanwhile waits until the outbox went out
    const before = this.nodes.current;
    try {
      const several = this.nodes.several;
      const addresses = this.nodes.addresses; // the list of this cycle, whatever is learned meanwhile
      const { value } = await firstReachable(addresses, this.nodes.failoverOrder(), (address) => this.rejoin(address), isFinal);
      this.backoff.reset();
      this.deps.dispatch({ type: 'linkChanged', link: 'online' });
      if (several && value.address !== before) this.tellMoved(value.address);
    } catch (error) {
      this.failedToReconnect(error);
    } finally {
      this.recovering = false;
    }
  }

  /** "Moved to h2 — nothing was lost": said once the move is complete, for a while. */
  private tellMoved(address: string): void {
    if (this.movedTimer) clearTimeout(this.movedTimer);
    this.deps.dispatch({ type: 'nodeMoved', address });
    this.movedTimer = setTimeout(() => {
      this.movedTimer = null;
      this.deps.dispatch({ type: 'nodeMoved', address: null });
    }, this.deps.movedNoticeMs ?? MOVED_NOTICE_MS);
  }

  /** Connect to `address` and sign in again there; a half-made link is closed on failure. */
  private async rejoin(address: string): Promise<ConnectResult> {
    try {
      const result = await this.connectTo(address);
      const client = this.requireClient();
      if (this.account) {
        await this.reauthenticate(client, this.account);
        await this.afterSignIn(client);
      }
      return result;
    } catch (error) {
      if (!isFinal(error)) {
        const half = this.client;
        this.client = null;
        half?.close();
      }
      throw error;
    }
  }

  private failedToReconnect(error: unknown): void {
    const half = this.client; // connected, but sign-in, catch-up or the flush failed
    this.client = null;
    half?.close();
    const problem = reconnectProblem(error);
    if (problem) {
      // Retrying cannot help: tell the user, and stop.
      this.gaveUp = true;
      this.deps.dispatch({ type: 'linkChanged', link: 'offline', problem });
      return;
    }
    this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
    this.scheduleReconnect();
  }

  private requireClient(): ArtpClient {
    if (!this.client) throw new ArtpError(LocalErrorCode.CLOSED, 'not connected');
    return this.client;
  }
}

/** A key other than the community's: no other address of the list may be tried instead. */
function isKeyProblem(error: unknown): boolean {
  return error instanceof KeyChangedError || (error instanceof ArtpError && error.code === 'KEY_MISMATCH');
}

/** An error that ends a reconnect cycle: trying the next address cannot fix it. */
function isFinal(error: unknown): boolean {
  return reconnectProblem(error) !== null;
}

/** A reason no retry can fix (the UI words it); null when trying again may work. */
function reconnectProblem(error: unknown): LinkProblem | null {
  if (error instanceof KeyChangedError) {
    return { kind: 'keyChanged', address: error.address, pinned: error.pinned, presented: error.presented };
  }
  if (error instanceof ArtpError && error.code === 'AUTH_FAILED') return { kind: 'signInRefused' };
  return null;
}
