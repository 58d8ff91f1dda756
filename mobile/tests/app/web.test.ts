import { isLoopback, pageIsHttps, pageIsInsecure } from '../../src/web/browser';
import { shortcutOf } from '../../src/web/keyboard';
import { mentions, notifiable } from '../../src/web/notifications';
import { chatReducer, initialChatState } from '../../src/state/chat';

describe('the page address', () => {
  it('is insecure only over plain HTTP from an address that is not loopback', () => {
    expect(pageIsInsecure({ protocol: 'http:', hostname: '192.0.2.7' })).toBe(true);
    expect(pageIsInsecure({ protocol: 'http:', hostname: 'chat.example.com' })).toBe(true);
    expect(pageIsInsecure({ protocol: 'https:', hostname: 'chat.example.com' })).toBe(false);
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'arona.localhost']) {
      expect([host, isLoopback(host), pageIsInsecure({ protocol: 'http:', hostname: host })]).toEqual([host, true, false]);
    }
    expect(pageIsHttps({ protocol: 'https:' })).toBe(true);
  });
});

describe('shortcuts', () => {
  const key = (key: string, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey', boolean>> = {}) =>
    shortcutOf({ key, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });
  it('knows Ctrl-K, ⌘K and Alt-arrows, and nothing else', () => {
    expect(key('k', { ctrlKey: true })).toBe('switcher');
    expect(key('K', { metaKey: true })).toBe('switcher');
    expect(key('ArrowUp', { altKey: true })).toBe('up');
    expect(key('ArrowDown', { altKey: true })).toBe('down');
    expect(key('k')).toBeNull();
    expect(key('ArrowUp')).toBeNull();
  });

  it('knows Ctrl-Shift-F and ⌘⇧F for the message search, not a plain Ctrl-F (the browser\'s find)', () => {
    expect(key('F', { ctrlKey: true, shiftKey: true })).toBe('search');
    expect(key('f', { metaKey: true, shiftKey: true })).toBe('search');
    expect(key('f', { ctrlKey: true })).toBeNull();
  });
});

describe('notifications', () => {
  it('count a mention as a whole word, @name or name:', () => {
    expect(mentions('sensei: look', 'Sensei')).toBe(true);
    expect(mentions('hi @sensei!', 'sensei')).toBe(true);
    expect(mentions('senseis are here', 'sensei')).toBe(false);
  });

  it('are due for a new DM and a mention, not for my own lines or plain channel talk', () => {
    let state = chatReducer(initialChatState, { type: 'loggedIn', user: 'sensei', channels: ['#plaza'] });
    const msg = (id: string, from: string, dest_type: 'user' | 'channel', dest: string, content: string) =>
      ({ type: 'MSG', id, from, dest_type, dest, content, timestamp: 1 }) as const;
    const arrive = (message: ReturnType<typeof msg>) => {
      const before = state;
      state = chatReducer(state, { type: 'messageReceived', message });
      return notifiable(before, state).map((n) => `${n.from}: ${n.content}`);
    };
    expect(arrive(msg('1', 'kei', 'user', 'sensei', 'psst'))).toEqual(['kei: psst']);
    expect(arrive(msg('2', 'kei', 'channel', '#plaza', 'lunch?'))).toEqual([]);
    expect(arrive(msg('3', 'kei', 'channel', '#plaza', 'sensei: lunch?'))).toEqual(['kei: sensei: lunch?']);
    expect(arrive(msg('4', 'sensei', 'channel', '#plaza', 'sensei: talking to myself'))).toEqual([]);
  });
});
