import { firstUnreadKey, timelineRows } from '../../src/components/timeline';
import type { ChatMessage } from '../../src/state/chat';

const at = (y: number, m: number, d: number, h: number, min = 0) => new Date(y, m, d, h, min).getTime() / 1000;
const msg = (key: string, from: string, timestamp: number, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  key, id: key, from, content: key, timestamp, status: 'sent', ...extra,
});
const NOW = new Date(2026, 11, 3, 18, 0);

describe('timelineRows', () => {
  it('groups consecutive messages of one sender within five minutes, and separates days', () => {
    const rows = timelineRows(
      [
        msg('a', 'kei', at(2026, 11, 2, 9)),
        msg('b', 'kei', at(2026, 11, 2, 9, 3)),
        msg('c', 'KEI', at(2026, 11, 2, 9, 20)),
        msg('d', 'arona', at(2026, 11, 3, 8)),
        msg('e', 'arona', at(2026, 11, 3, 8, 1), { system: 'join' }),
        msg('f', 'arona', at(2026, 11, 3, 8, 2)),
      ],
      null,
      NOW,
    );
    const shown = (r: (typeof rows)[number]) =>
      r.kind === 'message' ? `${r.firstOfGroup ? '[' : ''}${r.key}${r.lastOfGroup ? ']' : ''}` : r.kind === 'day' ? r.label : r.kind;
    expect(rows.map(shown)).toEqual(['Yesterday', '[a', 'b]', '[c]', 'Today', '[d]', '[e]', '[f]']);
  });

  it('puts the unread line before the first unread message and starts a group there', () => {
    const rows = timelineRows([msg('a', 'kei', 100), msg('b', 'kei', 110)], 'b', NOW);
    expect(rows.map((r) => r.kind)).toEqual(['day', 'message', 'unread', 'message']);
    expect(rows[3]).toMatchObject({ key: 'b', firstOfGroup: true });
  });
});

describe('firstUnreadKey', () => {
  it('counts back over messages from others only', () => {
    const messages = [msg('a', 'kei', 1), msg('b', 'kei', 2), msg('c', 'sensei', 3), msg('d', 'kei', 4, { system: 'join' }), msg('e', 'kei', 5)];
    expect(firstUnreadKey(messages, 2, 'Sensei')).toBe('b');
    expect(firstUnreadKey(messages, 0, 'sensei')).toBeNull();
  });
});
