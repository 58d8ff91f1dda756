/**
 * How a chat line reads, in the terminal client's words (src/aronanet/tui/widgets/message_log.py):
 * `→ kei joined`, `← kei left`, `✎ kei set the topic: …`, and `/me` actions as `* kei waves`.
 * Shared by the chat bubbles and the conversation list's preview.
 */
import type { ChatMessage } from '../state/chat';
import { actionText } from '../state/compose';

/** A membership or topic line, as one sentence. */
export function systemLineText(message: ChatMessage): string {
  if (message.system === 'join') return `→ ${message.from} joined`;
  if (message.system === 'part') return `← ${message.from} left`;
  if (message.system === 'moderation') return `⚑ ${message.content}`;
  return message.content ? `✎ ${message.from} set the topic: ${message.content}` : `✎ ${message.from} cleared the topic`;
}

/** An action line (`/me waves` from kei) as `* kei waves`, or null for an ordinary message. */
export function actionLineText(message: ChatMessage): string | null {
  const action = actionText(message.content);
  return action === null ? null : `* ${message.from} ${action}`;
}

/** The one-line preview of a conversation's latest line. */
export function previewText(message: ChatMessage): string {
  if (message.system) return systemLineText(message);
  if (message.deleted !== undefined) return `${message.from}: Message deleted`;
  if (message.attachment) return `${message.from}: 🖼 image`;
  return actionLineText(message) ?? `${message.from}: ${message.content}`;
}
