/**
 * Desktop keyboard shortcuts: Ctrl-K (⌘K) opens the conversation switcher, Ctrl-Shift-F (⌘⇧F)
 * the message search, Alt-↑/↓ moves to the previous/next conversation. (Esc closes overlays: each overlay is a Modal, which does.)
 */

export interface Shortcuts {
  readonly switcher: () => void;
  readonly move: (step: -1 | 1) => void;
  readonly search?: () => void;
}

/** Which shortcut a key press is, if any. */
export function shortcutOf(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey'>,
): 'switcher' | 'search' | 'up' | 'down' | null {
  if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'k') return 'switcher';
  if ((event.ctrlKey || event.metaKey) && event.shiftKey && !event.altKey && event.key.toLowerCase() === 'f') return 'search';
  if (event.altKey && !event.ctrlKey && !event.metaKey && event.key === 'ArrowUp') return 'up';
  if (event.altKey && !event.ctrlKey && !event.metaKey && event.key === 'ArrowDown') return 'down';
  return null;
}

/** Listen for the shortcuts on the whole page; returns the function that stops listening. */
export function watchShortcuts(shortcuts: Shortcuts): () => void {
  const target = (globalThis as { document?: Document }).document;
  if (!target) return () => undefined;
  const onKey = (event: KeyboardEvent) => {
    const shortcut = shortcutOf(event);
    if (!shortcut || (shortcut === 'search' && !shortcuts.search)) return;
    event.preventDefault();
    if (shortcut === 'switcher') shortcuts.switcher();
    else if (shortcut === 'search') shortcuts.search?.();
    else shortcuts.move(shortcut === 'up' ? -1 : 1);
  };
  // Capture: the text fields stop key events from bubbling (react-native-web does).
  target.addEventListener('keydown', onKey, true);
  return () => target.removeEventListener('keydown', onKey, true);
}
