/**
 * One chat session: the protocol client bound to the chat reducer. The screens call its verbs;
 * it dispatches what happened.
 *
 * This class holds the verbs of the conversations: opening, leaving and moderating them,
 * reading, sending (through the outbox, state/sending), editing, reacting, searching, images.
 * The link and the account (connecting, signing in, resuming, reconnecting, signing out) are
 * state/sessionLink, which it extends.
 */
import type { DestType, ModerationRequest } from '../protocol/messages';
import { checkImageLimits } from '../protocol/transfers';
import { history, HISTORY_PAGE, loadAround } from './catchUp';
import { conversationKey, messageIds } from './conversations';
import { quoteText, reactedBy } from './lifecycle';
import { loadRoster, ownModeration } from './moderationRequests';
import type { ImagePick } from './outbox';
import { SessionLink } from './sessionLink';
import type { SearchPage, SearchScope, SessionDeps } from './sessionTypes';
import { TypingNotifier } from './typing';

export class ChatSession extends SessionLink {
  private readonly typingNotifier: TypingNotifier;

  constructor(deps: SessionDeps) {
    super(deps);
    this.typingNotifier = new TypingNotifier((destType, dest, typing) => {
      const client = this.client;
      if (!client?.features.has('lifecycle')) return;
      client.request({ type: 'TYPING', dest_type: destType, dest, typing }).catch(() => undefined);
    });
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

  /** CHANNEL_INFO: every member's role and the modes, every page (state/moderationRequests). */
  async loadRoster(channel: string): Promise<void> {
    await loadRoster(this.requireClient(), channel, this.deps.dispatch);
  }

  /** One moderator's request; its OK is told as the MODERATION event the others get. */
  async moderate(request: ModerationRequest): Promise<void> {
    const ok = await this.requireClient().request(request);
    this.deps.dispatch({ type: 'moderated', event: ownModeration(request, ok, this.deps.getState().user ?? '') });
  }

  /** BLOCK or unblock `user` (§14.19); their channel messages are hidden while blocked. */
  async block(user: string, blocked: boolean): Promise<void> {
    const client = this.requireClient();
    await client.request({ type: 'BLOCK', user, blocked });
    await this.loadBlocks();
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
    this.reading.closed();
    this.typingNotifier.stopped();
    this.deps.dispatch({ type: 'conversationClosed' });
  }

  /**
   * The chat screen says whether conversation `key` is on screen scrolled to its newest
   * message (§14.6): only then is it read, now and whenever a new message arrives there.
   */
  viewing(key: string, atNewest: boolean): void {
    this.reading.viewing(key, atNewest);
  }

  /**
   * The conversation is on screen at its newest message (§14.6): move the read marker there,
   * on the node, so the user's other devices agree. Without a link or `sync` it waits until
   * the conversation is viewed again.
   */
  markRead(key: string): Promise<void> {
    return this.reading.markRead(key);
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
    return this.images.uri(this.client, image);
  }
}
