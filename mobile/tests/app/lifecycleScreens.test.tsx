/**
 * The lifecycle UI as components (the gestures against a real node are in the browser tests):
 * the actions menu and what each of its buttons does, reply and edit in the composer, the quote
 * and its jump, "(edited)", the tombstone, reaction chips, the typing line and the search
 * screen's marked words.
 */
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import { typingText } from '../../src/components/TypingLine';
import { ChatScreen, type ChatScreenProps } from '../../src/screens/ChatScreen';
import { SearchScreen } from '../../src/screens/SearchScreen';
import type { ChatMessage, Conversation } from '../../src/state/chat';

const conversation = (messages: ChatMessage[]): Conversation => ({
  key: '#general', destType: 'channel', dest: '#general', messages, unread: 0, mentions: 0, reachedStart: false,
});

const messages: ChatMessage[] = [
  { key: '1', id: '1', from: 'kei', content: 'the plan is ready', timestamp: 1, status: 'sent', reactions: [{ emoji: '👍', count: 2, users: ['kei', 'sensei'] }] },
  { key: '2', id: '2', from: 'sensei', content: 'great', timestamp: 2, status: 'sent', replyTo: '1', reply: { id: '1', from: 'kei', content: 'the plan is ready' }, edited: 3 },
  { key: '3', id: '3', from: 'kei', content: '', timestamp: 4, status: 'sent', deleted: 5 },
  { key: '4', id: '4', from: 'kei', content: 'sensei: look here', timestamp: 6, status: 'sent' },
];

function props(overrides: Partial<ChatScreenProps> = {}): ChatScreenProps {
  return {
    me: 'sensei',
    link: 'online',
    conversation: conversation(messages),
    onSend: async () => undefined,
    onSendImage: async () => undefined,
    onRetry: () => undefined,
    onLoadOlder: async () => undefined,
    loadImage: async () => 'data:image/png;base64,AAAA',
    pickImage: async () => null,
    ...overrides,
  };
}

describe('the lifecycle in the chat screen', () => {
  it('shows a reply quote, (edited), a tombstone, reaction chips and a mention', () => {
    render(<ChatScreen {...props()} />);
    expect(screen.getByTestId('reply-quote')).toHaveTextContent(/In reply to kei ?the plan is ready/);
    expect(screen.getAllByTestId('message-edited')).toHaveLength(1);
    expect(screen.getByTestId('message-deleted')).toHaveTextContent(/Message deleted/);
    expect(screen.getByLabelText('👍 2, reacted by kei, sensei. Tap to remove yours')).toBeTruthy();
    expect(screen.getByTestId('reaction-👍')).toBeSelected();
    expect(screen.getByText('Mentions you.')).toBeTruthy();
  });

  it('says who reacted on a long press of a chip', () => {
    render(<ChatScreen {...props()} />);
    fireEvent(screen.getByTestId('reaction-👍'), 'longPress');
    expect(screen.getByTestId('reactors')).toHaveTextContent(/kei, sensei/);
  });

  it('toggles my reaction from its chip', async () => {
    const toggled: string[] = [];
    render(<ChatScreen {...props({ onToggleReaction: async (id, emoji) => void toggled.push(`${id}:${emoji}`) })} />);
    fireEvent.press(screen.getByTestId('reaction-👍'));
    await waitFor(() => expect(toggled).toEqual(['1:👍']));
  });

  it('opens the actions on a long press: react, reply, copy; no edit or delete of another\'s message', async () => {
    const toggled: string[] = [];
    const sent: [string, string | undefined][] = [];
    render(
      <ChatScreen
        {...props({ onToggleReaction: async (id, emoji) => void toggled.push(`${id}:${emoji}`), onSend: async (content, replyTo) => void sent.push([content, replyTo]) })}
      />,
    );
    fireEvent(screen.getByTestId('message-1'), 'longPress');
    expect(screen.getByTestId('message-actions')).toBeTruthy();
    expect(screen.queryByTestId('action-edit')).toBeNull();
    expect(screen.queryByTestId('action-delete')).toBeNull();
    expect(screen.getByTestId('react-👍')).toBeSelected(); // mine already
    fireEvent.press(screen.getByTestId('more-reactions'));
    fireEvent.press(screen.getByTestId('react-🌸'));
    await waitFor(() => expect(toggled).toEqual(['1:🌸']));

    fireEvent(screen.getByTestId('message-1'), 'longPress');
    fireEvent.press(screen.getByTestId('action-reply'));
    expect(screen.getByTestId('composer-reply')).toHaveTextContent(/Replying to kei/);
    fireEvent.changeText(screen.getByTestId('composer'), 'on it');
    fireEvent.press(screen.getByTestId('send'));
    await waitFor(() => expect(sent).toEqual([['on it', '1']]));
    expect(screen.queryByTestId('composer-reply')).toBeNull();
  });

  it('edits my message in the composer and deletes it after asking', async () => {
    const edits: string[] = [];
    const deletes: string[] = [];
    render(
      <ChatScreen
        {...props({ onEdit: async (id, content) => void edits.push(`${id}:${content}`), onDelete: async (id) => void deletes.push(id) })}
      />,
    );
    fireEvent(screen.getByTestId('message-2'), 'longPress');
    fireEvent.press(screen.getByTestId('action-edit'));
    expect(screen.getByTestId('composer').props.value).toBe('great');
    expect(screen.getByTestId('composer-editing')).toBeTruthy();
    fireEvent.changeText(screen.getByTestId('composer'), 'great, thanks');
    fireEvent.press(screen.getByTestId('send'));
    await waitFor(() => expect(edits).toEqual(['2:great, thanks']));

    fireEvent(screen.getByTestId('message-2'), 'longPress');
    fireEvent.press(screen.getByTestId('action-delete'));
    expect(screen.getByTestId('confirm-delete')).toBeTruthy();
    expect(deletes).toEqual([]); // not before the confirmation
    fireEvent.press(screen.getByTestId('confirm-delete-yes'));
    await waitFor(() => expect(deletes).toEqual(['2']));
  });

  it('jumps to a quoted message through onJump, and says so when it is gone', async () => {
    const asked: string[] = [];
    render(<ChatScreen {...props({ onJump: async (id) => (asked.push(id), false) })} />);
    fireEvent.press(screen.getByTestId('reply-quote'));
    await waitFor(() => expect(asked).toEqual(['1']));
    expect(await screen.findByTestId('chat-error')).toHaveTextContent(/can't find that message/);
  });

  it('says who is typing above the composer', () => {
    expect(typingText([])).toBe('');
    expect(typingText(['kei'])).toBe('kei is typing…');
    expect(typingText(['kei', 'yuuka'])).toBe('kei and yuuka are typing…');
    expect(typingText(['a', 'b', 'c'])).toBe('Several people are typing…');
    render(<ChatScreen {...props({ typists: ['kei'] })} />);
    expect(screen.getByTestId('typing-line')).toHaveTextContent('kei is typing…');
  });

  it('tells the session about the draft (typing), not while editing', () => {
    const drafts: string[] = [];
    render(<ChatScreen {...props({ onDraftChanged: (draft) => drafts.push(draft) })} />);
    fireEvent.changeText(screen.getByTestId('composer'), 'h');
    fireEvent(screen.getByTestId('message-2'), 'longPress');
    fireEvent.press(screen.getByTestId('action-edit'));
    fireEvent.changeText(screen.getByTestId('composer'), 'greatest');
    expect(drafts).toEqual(['h']);
  });
});

describe('the search screen', () => {
  it('lists results newest first with the matched words marked, and opens one', async () => {
    const picked: string[] = [];
    render(
      <SearchScreen
        me="sensei"
        here={{ destType: 'channel', dest: '#general', title: '#general' }}
        onBack={() => undefined}
        onPick={(key, _t, _d, id) => picked.push(`${key}:${id}`)}
        onSearch={async (query, scope) => ({
          results: [
            { type: 'MSG', id: '9', from: 'kei', dest_type: 'user', dest: 'sensei', content: '🌸 the plan', timestamp: 9, marks: [[6, 4]] },
            { type: 'MSG', id: '4', from: 'arona', dest_type: 'channel', dest: '#general', content: `plan ${query} ${scope ? 'here' : 'all'}`, timestamp: 4, marks: [[0, 4]] },
          ],
        })}
      />,
    );
    fireEvent.changeText(screen.getByTestId('search-query'), 'plan');
    await act(async () => fireEvent(screen.getByTestId('search-query'), 'submitEditing'));
    const marks = await screen.findAllByTestId('search-mark');
    expect(marks.map((m) => m.props.children)).toEqual(['plan', 'plan']);
    expect((await screen.findAllByText(/all$/)).length).toBeGreaterThan(0);
    fireEvent.press(screen.getByTestId('search-result-9'));
    expect(picked).toEqual(['@kei:9']);
    fireEvent.press(screen.getByTestId('search-here'));
    await act(async () => fireEvent.press(screen.getByTestId('search-go')));
    expect((await screen.findAllByText(/here$/)).length).toBeGreaterThan(0);
  });

  it('says when nothing matches, and words a refusal with its code', async () => {
    let fail = false;
    render(
      <SearchScreen
        me="sensei"
        onBack={() => undefined}
        onPick={() => undefined}
        onSearch={async () => {
          if (fail) throw new Error('INVALID: invalid query: no word');
          return { results: [] };
        }}
      />,
    );
    fireEvent.changeText(screen.getByTestId('search-query'), 'zzz');
    await act(async () => fireEvent.press(screen.getByTestId('search-go')));
    expect(await screen.findByTestId('search-empty')).toHaveTextContent(/Nothing matches “zzz”/);
    fail = true;
    await act(async () => fireEvent.press(screen.getByTestId('search-go')));
    expect(await screen.findByTestId('search-error')).toHaveTextContent(/invalid query/);
  });
});
