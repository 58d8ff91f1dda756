/**
 * The chat screen's scrolling, as one hook: the message list opens at the newest message or at
 * the first unread one, stays pinned to the bottom while the user is there, raises a "new
 * messages" pill when they are not, loads older pages near the top, tells the session whether
 * the newest message is in view, and holds still for a jump to a message. The screen
 * (screens/ChatScreen) only lays the list out and calls these verbs.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LayoutChangeEvent, NativeScrollEvent, NativeSyntheticEvent, ScrollView } from 'react-native';

import type { ChatScreenProps } from '../screens/ChatScreen';
import { sameName } from '../state/names';
import { firstUnreadKey, timelineRows } from './timeline';

/** Closer than this to the bottom counts as "at the bottom" (a line and a half). */
const PINNED_SLACK = 48;
/** Closer than this to the top loads the page before. */
const LOAD_OLDER_AT = 120;
/** Scrolled further up than this, my next message no longer pulls the list down. */
const FOLLOW_MINE_UNTIL = 200;
/** How long a jump to a message may take to fetch it, and how long it then holds the list still. */
const JUMP_FETCH_MS = 15_000;
const JUMP_HOLD_MS = 1500;

/** What the timeline reads of the chat screen's props. */
type TimelineProps = Pick<ChatScreenProps, 'conversation' | 'me' | 'unreadAtOpen' | 'onLoadOlder' | 'onAtNewest'>;

/** The scroll behaviour of the message list: open at the newest or first unread, stay pinned, pill when away. */
export function useTimeline(props: TimelineProps, report: (action: string) => (caught: unknown) => void) {
  const { conversation, me, onLoadOlder, onAtNewest } = props;
  const scrollRef = useRef<ScrollView>(null);
  const [unreadFrom] = useState(() => firstUnreadKey(conversation.messages, props.unreadAtOpen ?? 0, me));
  const rows = timelineRows(conversation.messages, unreadFrom);
  const [pill, setPill] = useState(false);
  const pinned = useRef(true);
  /** Where the list opens: at the unread line once it is laid out, else at the end; then done. */
  const opening = useRef<'unread' | 'end' | 'done'>(unreadFrom ? 'unread' : 'end');
  const listY = useRef(0);
  const loadingOlder = useRef(false);
  const lastKey = useRef(conversation.messages.at(-1)?.key);

  const toEnd = useCallback((animated: boolean) => scrollRef.current?.scrollToEnd({ animated }), []);
  /**
   * A jump under way (the message being fetched, `id` empty) or just made: until `until` (ms),
   * nothing pulls the list to the bottom, and growing content keeps the message in place.
   */
  const jumping = useRef<{ id: string; until: number } | null>(null);
  const isJumping = () => jumping.current !== null && Date.now() < jumping.current.until;

  /** Tell the session where the user is; `atNewest` false while opening at the unread line. */
  const atNewestRef = useRef(onAtNewest);
  atNewestRef.current = onAtNewest;
  const reported = useRef<boolean | null>(null);
  /** Say it again even if unchanged (`always`: a new message arrived while at the newest). */
  const reportPinned = useCallback((always = false) => {
    const atNewest = pinned.current && opening.current !== 'unread';
    if (atNewest === reported.current && !(always && atNewest)) return;
    reported.current = atNewest;
    atNewestRef.current?.(atNewest);
  }, []);
  useEffect(() => () => atNewestRef.current?.(false), []); // leaving the screen

  // New messages at the bottom: follow them when pinned, else raise the pill (not for my own).
  const newest = conversation.messages.at(-1);
  // My own message (new, or its tick changing) is followed while I have not scrolled away:
  // a layout shift of the browser's scroll anchoring must not leave it below the fold.
  const followMine = useRef(false);
  useEffect(() => {
    if (!newest) return;
    const mine = sameName(newest.from, me);
    if (mine && followMine.current) {
      pinned.current = true;
      toEnd(false);
    }
    if (pinned.current) reportPinned(true);
    if (newest.key === lastKey.current) return;
    lastKey.current = newest.key;
    if (!pinned.current && !mine && !newest.system) setPill(true);
  }, [newest, me, toEnd, reportPinned]);

  const onContentSizeChange = useCallback(() => {
    if (isJumping()) {
      if (jumping.current?.id) scrollIntoView(jumping.current.id);
      return;
    }
    if (opening.current === 'unread' || conversation.messages.length === 0) return; // not yet
    if (opening.current === 'end') opening.current = 'done';
    if (pinned.current) toEnd(false);
  }, [conversation.messages.length, toEnd]);

  /** The unread line is laid out (children report after the list): open there, unpinned. */
  const onUnreadLayout = useCallback((event: LayoutChangeEvent) => {
    if (opening.current !== 'unread') return;
    opening.current = 'done';
    pinned.current = false;
    scrollRef.current?.scrollTo({ y: Math.max(0, listY.current + event.nativeEvent.layout.y - 8), animated: false });
  }, []);

  const loadOlder = useCallback(() => {
    if (loadingOlder.current || conversation.reachedStart) return;
    loadingOlder.current = true;
    onLoadOlder()
      .catch(report('loading history'))
      .finally(() => (loadingOlder.current = false));
  }, [conversation.reachedStart, onLoadOlder, report]);

  const onScroll = useCallback(
    (event: NativeSyntheticEvent<NativeScrollEvent>) => {
      const { contentOffset, contentSize, layoutMeasurement } = event.nativeEvent;
      const fromBottom = contentSize.height - (contentOffset.y + layoutMeasurement.height);
      pinned.current = fromBottom < PINNED_SLACK && !isJumping();
      reportPinned();
      if (fromBottom > FOLLOW_MINE_UNTIL) followMine.current = false; // scrolled well away
      if (pinned.current) setPill(false);
      if (opening.current === 'done' && contentOffset.y < LOAD_OLDER_AT) loadOlder();
    },
    [loadOlder, reportPinned],
  );

  const [highlighted, setHighlighted] = useState<string | null>(null);
  const highlightTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (highlightTimer.current) clearTimeout(highlightTimer.current);
  }, []);
  /** Scroll message `id` to the middle of the list and mark it for a moment (it may still be rendering). */
  const scrollToMessage = useCallback((id: string) => {
    opening.current = 'done';
    pinned.current = false;
    jumping.current = { id, until: Date.now() + JUMP_HOLD_MS };
    reportPinned();
    setHighlighted(id);
    if (highlightTimer.current) clearTimeout(highlightTimer.current);
    highlightTimer.current = setTimeout(() => setHighlighted(null), 2500);
    let tries = 0;
    const attempt = () => {
      tries += 1;
      if (scrollIntoView(id) || tries > 60) return;
      setTimeout(attempt, 50);
    };
    attempt();
  }, [reportPinned]);

  return {
    scrollRef,
    rows,
    pill,
    highlighted,
    scrollToMessage,
    /** A jump is coming: new pages must not pull the list to the bottom. */
    unpin: () => {
      opening.current = 'done';
      pinned.current = false;
      jumping.current = { id: '', until: Date.now() + JUMP_FETCH_MS };
    },
    /** The jump found nothing: back to normal. */
    jumpFailed: () => {
      jumping.current = null;
    },
    onScroll,
    onContentSizeChange,
    onViewportLayout: () => pinned.current && opening.current === 'done' && !isJumping() && toEnd(false),
    onListLayout: (event: LayoutChangeEvent) => (listY.current = event.nativeEvent.layout.y),
    onUnreadLayout,
    /** The user sent something: show it, wherever they were. */
    pin: () => {
      jumping.current = null;
      pinned.current = true;
      followMine.current = true;
      setPill(false);
    },
    jumpToEnd: () => {
      jumping.current = null;
      pinned.current = true;
      setPill(false);
      toEnd(true);
    },
  };
}

/** Message `id`'s bubble scrolled to the middle of the list (web: the DOM; elsewhere not yet). */
function scrollIntoView(id: string): boolean {
  const document = (globalThis as { document?: Document }).document;
  const element = document?.querySelector(`[data-message-id="${CSS.escape(id)}"]`);
  if (!element) return false;
  element.scrollIntoView({ block: 'center' });
  return true;
}
