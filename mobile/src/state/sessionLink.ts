/**
 * The session's link and account, which state/session (the conversation verbs) extends:
 * connecting to the community, signing in, resuming after a restart, signing out, the
 * account's devices and password, and what follows every sign-in.
 *
 * Signing in (PROTOCOL.md §14.3): a password once per device; afterwards the device key alone
 * (AUTH without password), on every reconnect and after a restart of the app, which remembers
 * the node and user (`AccountMemory`), never the password. After every sign-in it lists every
 * conversation (CONVERSATIONS, §14.5), catches each up with HISTORY after the last id it has
 * (page after page, so no gap), then sends what waits in the outbox, in order, each message
 * with its client id (§14.4), so a resend is never posted twice. Until all that is done, new
 * messages wait in the outbox. When the link drops it reconnects with backoff (sooner when the
 * platform says the network is back): state/reconnect decides when.
 */
import type { ArtpClient, NodeLimits } from '../protocol/client';
import { ArtpError, LocalErrorCode } from '../protocol/errors';
import type { DeviceInfo } from '../protocol/messages';
import { changePassword, listDevices, renameDevice, revokeDevice } from './account';
import { Backoff } from './backoff';
import { cachedFor, CacheWriter, memoryConversationStore } from './cache';
import { CATCH_UP_PAGE, catchUpAll } from './catchUp';
import type { ChatState } from './chat';
import { Community, firstReachable, type LearnedCommunity } from './community';
import { Images } from './images';
import { loadBlocks } from './moderationRequests';
import { memoryOutboxStore, Outbox } from './outbox';
import { sameName } from './names';
import { Reading } from './reading';
import { isFinal, isKeyProblem, Reconnector } from './reconnect';
import { Sending } from './sending';
import { ServerEvents } from './serverEvents';
import type { AuthTokens, ConnectResult, ResumeResult, SessionDeps } from './sessionTypes';
import { openLink, reauthPassword, signIn } from './signIn';

export class SessionLink {
  protected client: ArtpClient | null = null;
  /** The community's addresses (state/community) and the one in use. */
  private readonly nodes = new Community();
  private node: ConnectResult | null = null;
  /** Who is signed in; `password` is kept only for a node without `sync` (ArTP/1.0). */
  private account: { user: string; password?: string } | null = null;
  /** §14.3: this device's id on the node, from AUTH's OK. */
  private deviceId: string | null = null;
  private readonly outbox: Outbox;
  protected readonly sending: Sending;
  protected readonly images = new Images();
  /** HELLO's limits of the node last connected to, for checks made while offline. */
  protected limits: NodeLimits | null = null;
  protected readonly reading: Reading;
  private readonly cache: CacheWriter;
  private readonly reconnector: Reconnector;
  private readonly events: ServerEvents;
  /** True from a reconnect's first byte until its outbox is flushed. */
  private recovering = false;
  private stopped = false;

  constructor(protected readonly deps: SessionDeps) {
    this.reconnector = new Reconnector({
      nodes: this.nodes,
      dispatch: deps.dispatch,
      backoff: deps.backoff ?? new Backoff(),
      movedNoticeMs: deps.movedNoticeMs,
      linked: () => this.client !== null,
      stopped: () => this.stopped,
      recovering: () => this.recovering,
      setRecovering: (recovering) => (this.recovering = recovering),
      rejoin: (address) => this.rejoin(address),
      dropLink: () => this.dropLink(),
    });
    this.events = new ServerEvents(deps.dispatch, deps.getState);
    this.reading = new Reading({ dispatch: deps.dispatch, getState: deps.getState, client: () => this.client });
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
    const { client, pin } = await openLink(this.deps, address, this.nodes.addresses, pinned);
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
      this.reconnector.failed(error);
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
    this.reconnector.gaveUp = false;
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
    this.reconnector.gaveUp = false;
    this.reading.clear();
    this.images.clear();
    await Promise.all([this.deps.accounts.forget(), this.outbox.clear(), this.cache.clear()]);
    this.deps.dispatch({ type: 'loggedOut' });
  }

  /**
   * Drop the link and forget the node and who was signed in on it (the user refused a
   * first-use key, or went back from the login screen). Nothing reconnects until `connect`.
   */
  disconnect(): void {
    this.reconnector.cancel();
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

  async devices(): Promise<DeviceInfo[]> {
    return listDevices(this.requireClient());
  }

  async renameDevice(device: string, name: string): Promise<string> {
    return renameDevice(this.requireClient(), device, name);
  }

  /** Revoke one of the user's devices; revoking this one is a logout that revokes. */
  async revokeDevice(device: string): Promise<void> {
    if (device === this.deviceId) return this.logout({ revoke: true });
    return revokeDevice(this.requireClient(), device);
  }

  async changePassword(old: string, next: string): Promise<void> {
    return changePassword(this.requireClient(), old, next);
  }

  /** BLOCKS (§14.19): who this account blocks; after every sign-in, and after a BLOCK. */
  async loadBlocks(): Promise<void> {
    await loadBlocks(this.requireClient(), this.deps.dispatch);
  }

  /** The chat state changed: keep the conversations on the device (a moment later, bounded). */
  stateChanged(state: ChatState): void {
    if (state.user && this.account) this.cache.changed(state);
  }

  /** The network came back (NetInfo, or the browser's `online`): reconnect now. */
  networkAvailable(): void {
    this.reconnector.networkAvailable();
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
    this.reconnector.networkLost();
  }

  close(): void {
    this.stopped = true;
    this.reconnector.close();
    this.events.close();
    void this.cache.flush();
    this.client?.close();
    this.client = null;
    this.images.clearUris();
  }

  // ------------------------------------------------------------------------- signing in

  /** AUTH with the password, or (without one, §14.3) a device sign-in. */
  private async authenticate(client: ArtpClient, user: string, password?: string, register = false, tokens: AuthTokens = {}): Promise<void> {
    const { account, deviceId, channels } = await signIn(client, this.deps.deviceName, user, password, register, tokens);
    this.account = account;
    this.deviceId = deviceId;
    this.deps.dispatch({ type: 'loggedIn', user: account.user, channels });
  }

  /** Signing in again after a reconnect: the device key on a `sync` node, else the password. */
  private reauthenticate(client: ArtpClient, account: { user: string; password?: string }): Promise<void> {
    return this.authenticate(client, account.user, reauthPassword(client, account));
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
      const pageSize = this.deps.catchUpPage ?? CATCH_UP_PAGE;
      const caughtUp = await catchUpAll(client, atSignIn, { dispatch: this.deps.dispatch, getState: this.deps.getState, pageSize });
      this.sending.settleInterrupted(client, caughtUp);
      await this.sending.flush();
    } finally {
      this.recovering = false;
    }
    const active = this.deps.getState().active;
    if (active && this.reading.isAtNewest(active)) void this.reading.markRead(active);
  }

  // ---------------------------------------------------------------------- reconnecting

  private attach(client: ArtpClient, address: string): void {
    this.client = client;
    this.limits = client.limits;
    this.nodes.reached(address);
    this.reconnector.gaveUp = false;
    client.onEvent((event) => this.events.handle(event));
    client.onClose(() => this.linkLost(client));
  }

  private linkLost(client: ArtpClient): void {
    if (this.client !== client || this.stopped) return;
    this.client = null;
    this.reconnector.linkLost();
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
      if (!isFinal(error)) this.dropLink();
      throw error;
    }
  }

  /** Close the link, if any: a half-made one (connected, but signing in or catching up failed). */
  private dropLink(): void {
    const half = this.client;
    this.client = null;
    half?.close();
  }

  protected requireClient(): ArtpClient {
    if (!this.client) throw new ArtpError(LocalErrorCode.CLOSED, 'not connected');
    return this.client;
  }
}
