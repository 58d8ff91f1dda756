/**
 * The user's own messages on their way, in the chat state (§14.4): shown pending at once, with
 * an image's progress, then sent (the node's id and time) or failed (the node's code), and
 * pending again when retried. The sending itself, through the outbox, is state/sending.
 */
import type { DestType, ReplyQuote } from '../protocol/messages';
import type { ChatMessage, ChatState, SendError } from './chat';
import { ensure, withConversation } from './conversations';

export type OutgoingAction =
  | {
      type: 'sendStarted';
      key: string;
      destType: DestType;
      dest: string;
      localKey: string;
      cid: string;
      content: string;
      timestamp: number;
      previewUri?: string;
      replyTo?: string;
      reply?: ReplyQuote;
    }
  | { type: 'sendProgress'; key: string; localKey: string; progress: number }
  | { type: 'sendSucceeded'; key: string; localKey: string; id: string; timestamp: number }
  | { type: 'sendFailed'; key: string; localKey: string; error: SendError }
  | { type: 'sendRetried'; key: string; localKey: string };

export function outgoingReducer(state: ChatState, action: OutgoingAction): ChatState {
  switch (action.type) {
    case 'sendStarted': {
      if (!state.user) return state;
      const conversation = ensure(state, action.destType, action.dest);
      // Shown again after a sign-in (the outbox restored): one bubble per message.
      if (conversation.messages.some((m) => m.key === action.localKey)) return state;
      const pending: ChatMessage = {
        key: action.localKey,
        cid: action.cid,
        from: state.user,
        content: action.content,
        timestamp: action.timestamp,
        status: 'pending',
        previewUri: action.previewUri,
        progress: action.previewUri ? 0 : undefined,
        ...(action.replyTo !== undefined ? { replyTo: action.replyTo, reply: action.reply } : {}),
      };
      return withConversation(state, { ...conversation, messages: [...conversation.messages, pending] });
    }
    case 'sendProgress':
      return updateMessage(state, action.key, action.localKey, (m) => ({ ...m, progress: action.progress }));
    case 'sendSucceeded': {
      const conversation = state.conversations[action.key];
      // The same message may already be here from HISTORY after a reconnect: keep one copy.
      if (conversation?.messages.some((m) => m.id === action.id)) {
        const messages = conversation.messages.filter((m) => m.key !== action.localKey);
        return withConversation(state, { ...conversation, messages });
      }
      return updateMessage(state, action.key, action.localKey, (m) => ({
        ...m,
        id: action.id,
        timestamp: action.timestamp,
        status: 'sent',
        progress: undefined,
        error: undefined,
      }));
    }
    case 'sendFailed':
      return updateMessage(state, action.key, action.localKey, (m) => ({ ...m, status: 'failed', error: action.error }));
    case 'sendRetried':
      return updateMessage(state, action.key, action.localKey, (m) => ({
        ...m,
        status: 'pending',
        error: undefined,
        progress: m.previewUri ? 0 : undefined,
      }));
  }
}

function updateMessage(
  state: ChatState,
  key: string,
  localKey: string,
  change: (message: ChatMessage) => ChatMessage,
): ChatState {
  const conversation = state.conversations[key];
  if (!conversation) return state;
  const messages = conversation.messages.map((m) => (m.key === localKey ? change(m) : m));
  return withConversation(state, { ...conversation, messages });
}
