import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import { ArtpError, KeyChangedError } from '../../src/protocol/errors';
import { ChatScreen, type ChatScreenProps } from '../../src/screens/ChatScreen';
import { ConnectScreen } from '../../src/screens/ConnectScreen';
import { ConversationsScreen } from '../../src/screens/ConversationsScreen';
import { LoginScreen, resetFormProblem } from '../../src/screens/LoginScreen';
import type { Conversation } from '../../src/state/chat';
import type { ConnectResult } from '../../src/state/sessionTypes';

const node: ConnectResult = { node: 'kivotos', address: 'kivotos:7778', fingerprint: 'SHA256:abc', pin: 'first-use' };

describe('ConnectScreen', () => {
  it('connects to the typed address and hands over the result', async () => {
    const connected: string[] = [];
    render(
      <ConnectScreen
        initialAddress=""
        onConnect={async (address) => ({ ...node, node: address })}
        onTrustNewKey={async () => undefined}
        onConnected={(result) => connected.push(result.node)}
      />,
    );
    fireEvent.changeText(screen.getByTestId('address'), 'kivotos.example:7778');
    fireEvent(screen.getByTestId('address'), 'submitEditing'); // Enter connects
    await screen.findByTestId('first-use');
    expect(connected).toEqual([]);
    fireEvent.press(screen.getByTestId('trust-node'));
    await waitFor(() => expect(connected).toEqual(['kivotos.example:7778']));
  });

  it('asks before pinning a first-use key, showing it grouped, and pins nothing when refused', async () => {
    const trusted: string[] = [];
    let refused = 0;
    const fingerprint = 'SHA256:q7Xk3hAPrM0u4Y1Zp9cVbN2wT6sLd8fGe5jKr1HoIa0';
    render(
      <ConnectScreen
        initialAddress="kivotos:7778"
        onConnect={async () => ({ node: 'kivotos', address: 'kivotos:7778', fingerprint, pin: 'first-use' })}
        onTrustNewKey={async (_address, shown) => void trusted.push(shown)}
        onRefuse={() => (refused += 1)}
        onConnected={() => undefined}
      />,
    );
    fireEvent.press(screen.getByTestId('connect'));
    expect(await screen.findByTestId('first-use-fingerprint')).toHaveTextContent('SHA256: q7Xk 3hAP rM0u 4Y1Z p9cV bN2w T6sL d8fG e5jK r1Ho Ia0');
    fireEvent.press(screen.getByTestId('refuse-node'));
    expect(screen.queryByTestId('first-use')).toBeNull();
    expect(refused).toBe(1);
    expect(trusted).toEqual([]);
  });

  it('warns loudly about a changed key and reconnects only after the user trusts it', async () => {
    const trusted: string[] = [];
    let attempts = 0;
    render(
      <ConnectScreen
        initialAddress="kivotos:7778"
        onConnect={async (address) => {
          attempts += 1;
          if (trusted.length === 0) throw new KeyChangedError(address, 'SHA256:old', 'SHA256:new');
          return node;
        }}
        onTrustNewKey={async (_address, fingerprint) => void trusted.push(fingerprint)}
        onConnected={() => undefined}
      />,
    );
    fireEvent.press(screen.getByTestId('connect'));
    expect(await screen.findByTestId('key-changed')).toHaveTextContent(/SHA256: old.*SHA256: new/);
    fireEvent.press(screen.getByTestId('trust-new-key'));
    await waitFor(() => expect(attempts).toBe(2));
    expect(trusted).toEqual(['SHA256:new']);
  });

  it('shows the error code when the node cannot be reached', async () => {
    render(
      <ConnectScreen
        initialAddress="nowhere:1"
        onConnect={async () => {
          throw new Error('could not reach ws://nowhere:1/artp');
        }}
        onTrustNewKey={async () => undefined}
        onConnected={() => undefined}
      />,
    );
    fireEvent.press(screen.getByTestId('connect'));
    expect(await screen.findByTestId('connect-error')).toHaveTextContent(/Sorry Sensei, connecting failed/);
  });
});

describe('LoginScreen', () => {
  it('registers with what was typed', async () => {
    const calls: unknown[] = [];
    render(<LoginScreen address="kivotos:7778" node={node} onLogin={async (...args) => void calls.push(args)} />);
    fireEvent.changeText(screen.getByTestId('user'), 'sensei');
    fireEvent.changeText(screen.getByTestId('password'), 'correct horse');
    fireEvent.press(screen.getByTestId('register'));
    await waitFor(() => expect(calls).toEqual([['sensei', 'correct horse', true]]));
  });

  it('logs in when Enter is pressed in the password field', async () => {
    const calls: unknown[] = [];
    render(<LoginScreen address="kivotos:7778" node={node} onLogin={async (...args) => void calls.push(args)} />);
    fireEvent.changeText(screen.getByTestId('user'), 'sensei');
    fireEvent.changeText(screen.getByTestId('password'), 'correct horse');
    fireEvent(screen.getByTestId('password'), 'submitEditing');
    await waitFor(() => expect(calls).toEqual([['sensei', 'correct horse', false]]));
  });

  it('resets the password with a token and the new password typed twice (§14.21)', async () => {
    const resets: unknown[] = [];
    const logins: unknown[] = [];
    render(
      <LoginScreen
        address="kivotos:7778"
        node={node}
        onLogin={async (...args) => void logins.push(args)}
        onReset={async (...args) => void resets.push(args)}
      />,
    );
    expect(screen.queryByTestId('reset-token')).toBeNull();
    fireEvent.press(screen.getByTestId('reset-toggle'));
    expect(screen.queryByTestId('login')).toBeNull(); // the form is the reset form now
    fireEvent.changeText(screen.getByTestId('user'), ' sensei ');
    fireEvent.changeText(screen.getByTestId('reset-token'), 'tok3nTOKEN_tok3n-x');
    fireEvent.changeText(screen.getByTestId('password'), 'a brand new horse');
    fireEvent.changeText(screen.getByTestId('password-again'), 'a brand new hors');
    fireEvent.press(screen.getByTestId('reset-submit'));
    expect(screen.getByTestId('login-error')).toHaveTextContent('The two passwords differ, Sensei.');
    fireEvent.changeText(screen.getByTestId('password-again'), 'a brand new horse');
    fireEvent(screen.getByTestId('password-again'), 'submitEditing'); // Enter sends
    await waitFor(() => expect(resets).toEqual([['sensei', 'tok3nTOKEN_tok3n-x', 'a brand new horse']]));
    expect(logins).toEqual([]);
  });

  it("says a refused reset token is unknown, used or expired and to ask the node's admin", async () => {
    render(
      <LoginScreen
        address="kivotos:7778"
        node={node}
        onLogin={async () => undefined}
        onReset={async () => {
          throw new ArtpError('AUTH_FAILED', 'this reset token is not valid for you');
        }}
      />,
    );
    fireEvent.press(screen.getByTestId('reset-toggle'));
    fireEvent.changeText(screen.getByTestId('user'), 'sensei');
    fireEvent.changeText(screen.getByTestId('reset-token'), 'spent-token-spent-token');
    fireEvent.changeText(screen.getByTestId('password'), 'a brand new horse');
    fireEvent.changeText(screen.getByTestId('password-again'), 'a brand new horse');
    fireEvent.press(screen.getByTestId('reset-submit'));
    const error = await screen.findByTestId('login-error');
    expect(error).toHaveTextContent(/unknown, used or expired/);
    expect(error).toHaveTextContent(/ask your node's admin for a new one/);
    expect(error).toHaveTextContent(/AUTH_FAILED: this reset token is not valid for you/);
    fireEvent.press(screen.getByTestId('reset-toggle')); // back: the login form again
    expect(screen.getByTestId('login')).toBeTruthy();
  });

  it('checks the reset form before anything is sent', () => {
    expect(resetFormProblem('', 't', 'password1', 'password1')).toMatch(/user name/);
    expect(resetFormProblem('sensei', ' ', 'password1', 'password1')).toMatch(/reset token/);
    expect(resetFormProblem('sensei', 't', 'short', 'short')).toMatch(/at least 8/);
    expect(resetFormProblem('sensei', 't', 'password1', 'password2')).toMatch(/differ/);
    expect(resetFormProblem('sensei', 't', 'password1', 'password1')).toBeNull();
  });
});

const conversation = (overrides: Partial<Conversation> = {}): Conversation => ({
  key: '#general',
  destType: 'channel',
  dest: '#general',
  unread: 0,
  mentions: 0,
  reachedStart: false,
  messages: [],
  ...overrides,
});

describe('ConversationsScreen', () => {
  it('shows that it is reconnecting', () => {
    render(<ConversationsScreen user="sensei" link="connecting" conversations={[]} onOpen={() => undefined} onStart={async () => undefined} />);
    expect(screen.getByTestId('link-status')).toHaveTextContent(/Reconnecting/);
  });

  it('shows unread counts and opens a conversation when tapped', () => {
    const opened: string[] = [];
    render(
      <ConversationsScreen
        user="sensei"
        link="online"
        conversations={[conversation({ unread: 3 })]}
        onOpen={(c) => opened.push(c.key)}
        onStart={async () => undefined}
      />,
    );
    expect(screen.getByTestId('unread-#general')).toHaveTextContent('3 unread');
    fireEvent.press(screen.getByTestId('conversation-#general'));
    expect(opened).toEqual(['#general']);
  });

  it('shows the mentions count apart from the unread count, read out as "2 mentions"', () => {
    const list = (mentions: number) => (
      <ConversationsScreen user="sensei" link="online" conversations={[conversation({ unread: 3, mentions })]} onOpen={() => undefined} onStart={async () => undefined} />
    );
    const { rerender } = render(list(0));
    expect(screen.queryByTestId('mentions-#general')).toBeNull();
    rerender(list(2));
    const badge = screen.getByTestId('mentions-#general');
    expect(badge).toHaveTextContent('@2 mentions');
    expect(screen.queryByText('@')).toBeNull(); // hidden from a screen reader: heard as "2 mentions"
    expect(screen.getByText('@', { includeHiddenElements: true })).toBeTruthy();
    expect(screen.getByTestId('unread-#general')).toHaveTextContent('3 unread');
    rerender(list(1));
    expect(screen.getByTestId('mentions-#general')).toHaveTextContent('@1 mention');
  });

  it('previews an action and a membership line in the conversation list', () => {
    const action = conversation({ messages: [{ key: 'm1', id: 'm1', from: 'arona', content: '/me hums', timestamp: 2, status: 'sent' }] });
    const joined = conversation({
      key: '#club', dest: '#club',
      messages: [{ key: 'e1', id: 'e1', system: 'join', from: 'kei', content: '', timestamp: 1, status: 'sent' }],
    });
    render(<ConversationsScreen user="sensei" link="online" conversations={[action, joined]} onOpen={() => undefined} onStart={async () => undefined} />);
    expect(screen.getByText('* arona hums')).toBeTruthy();
    expect(screen.getByText('→ kei joined')).toBeTruthy();
  });
});

describe('ChatScreen', () => {
  const props = (overrides: Partial<ChatScreenProps> = {}): ChatScreenProps => ({
    me: 'sensei',
    link: 'online',
    conversation: conversation({
      messages: [
        { key: 'm1', id: 'm1', from: 'arona', content: 'Good morning, Sensei!', timestamp: 1, status: 'sent' },
        { key: 'local:1', from: 'sensei', content: 'on its way', timestamp: 2, status: 'pending' },
        { key: 'local:2', from: 'sensei', content: 'lost', timestamp: 3, status: 'failed' },
      ],
    }),
    onBack: () => undefined,
    onSend: async () => undefined,
    onSendImage: async () => undefined,
    onRetry: () => undefined,
    onLoadOlder: async () => undefined,
    loadImage: async () => 'data:image/png;base64,AAAA',
    pickImage: async () => null,
    ...overrides,
  });

  it('shows the sending state of my messages', () => {
    render(<ChatScreen {...props()} />);
    expect(screen.getByText('Good morning, Sensei!')).toBeTruthy();
    const ticks = screen.getAllByTestId('message-status');
    expect(ticks.map((tick) => tick.props['aria-label'])).toEqual(['sending…', 'failed, tap to retry']);
    expect(ticks.map((tick) => tick.props.children)).toEqual(['◷', '⚠ Retry']);
    expect(screen.queryByText('sent')).toBeNull();
  });

  it('retries a failed message when its status is tapped', () => {
    const retried: string[] = [];
    render(<ChatScreen {...props({ onRetry: (key) => retried.push(key) })} />);
    fireEvent.press(screen.getByTestId('message-retry'));
    expect(retried).toEqual(['local:2']);
  });

  it("names the node's error code on a failed message and retries it when tapped", () => {
    const retried: string[] = [];
    const refused = { key: 'local:4', from: 'sensei', content: 'psst', timestamp: 4, status: 'failed' as const, error: { code: 'NO_SUCH_USER', message: 'no user ghost' } };
    render(<ChatScreen {...props({ onRetry: (key) => retried.push(key), conversation: conversation({ messages: [refused] }) })} />);
    expect(screen.getByTestId('message-status')).toHaveTextContent('⚠ NO_SUCH_USER · Retry');
    fireEvent.press(screen.getByTestId('message-retry'));
    expect(retried).toEqual(['local:4']);
  });

  it('shows the link state while reconnecting, and nothing once online', () => {
    const { rerender } = render(<ChatScreen {...props({ link: 'connecting' })} />);
    expect(screen.getByTestId('link-status')).toHaveTextContent(/Reconnecting/);
    rerender(<ChatScreen {...props({ link: 'offline' })} />);
    expect(screen.getByTestId('link-status')).toHaveTextContent(/lost the link/);
    rerender(<ChatScreen {...props({ link: 'online' })} />);
    expect(screen.queryByTestId('link-status')).toBeNull();
  });

  it('says why it stopped reconnecting', () => {
    render(<ChatScreen {...props({ link: 'offline', linkProblem: 'the key of kivotos:7778 changed' })} />);
    expect(screen.getByTestId('link-status')).toHaveTextContent('the key of kivotos:7778 changed');
  });

  it('sends the draft and clears the composer', async () => {
    const sent: string[] = [];
    render(<ChatScreen {...props({ onSend: async (text) => void sent.push(text) })} />);
    fireEvent.changeText(screen.getByTestId('composer'), 'Hello Arona!');
    fireEvent.press(screen.getByTestId('send'));
    expect(sent).toEqual(['Hello Arona!']);
    expect(screen.getByTestId('composer').props.value).toBe('');
  });

  it('sends a picked image', async () => {
    const images: string[] = [];
    const picked = { bytes: new Uint8Array([1]), name: 'arona.png', mime: 'image/png' };
    render(<ChatScreen {...props({ pickImage: async () => picked, onSendImage: async (image) => void images.push(image.name) })} />);
    fireEvent.press(screen.getByTestId('attach'));
    await waitFor(() => expect(images).toEqual(['arona.png']));
  });

  it("says clearly when a picked image is over the node's limits", async () => {
    const picked = { bytes: new Uint8Array([1]), name: 'huge.png', mime: 'image/png' };
    const refuse = async () => {
      throw new ArtpError('TOO_LARGE', "image of 9000×9000 = 81000000 pixels exceeds this node's limit of 40000000 pixels");
    };
    render(<ChatScreen {...props({ pickImage: async () => picked, onSendImage: refuse })} />);
    fireEvent.press(screen.getByTestId('attach'));
    expect(await screen.findByTestId('chat-error')).toHaveTextContent(
      "Sorry Sensei, sending the image failed — TOO_LARGE: image of 9000×9000 = 81000000 pixels exceeds this node's limit of 40000000 pixels",
    );
  });

  it('shows a received image once it is downloaded, and progress while mine uploads', async () => {
    const attachment = { type: 'image' as const, image: 'a'.repeat(64), name: 'a.png', mime: 'image/png', size: 4, width: 10, height: 10 };
    const messages = [
      { key: 'm2', id: 'm2', from: 'arona', content: '', timestamp: 1, status: 'sent' as const, attachment },
      { key: 'local:3', from: 'sensei', content: '', timestamp: 2, status: 'pending' as const, previewUri: 'data:x', progress: 0.5 },
    ];
    render(<ChatScreen {...props({ conversation: conversation({ messages }) })} />);
    // The download resolves on a later turn; a loaded machine (CI) can take over 1 s to get there.
    await waitFor(() => expect(screen.getAllByTestId('message-image')).toHaveLength(2), { timeout: 10_000 });
    expect(screen.getByTestId('upload-progress-label')).toHaveTextContent('50% received by the node');
  });

  it('shows a /me message as "* name text", mine included, like the terminal client', () => {
    const messages = [
      { key: 'm3', id: 'm3', from: 'arona', content: '/me waves at Sensei', timestamp: 1, status: 'sent' as const },
      { key: 'm4', id: 'm4', from: 'sensei', content: '/me waves back', timestamp: 2, status: 'sent' as const },
    ];
    render(<ChatScreen {...props({ conversation: conversation({ messages }) })} />);
    expect(screen.getByText('* arona waves at Sensei')).toBeTruthy();
    expect(screen.getByText('* sensei waves back')).toBeTruthy();
    expect(screen.queryByText('/me waves at Sensei')).toBeNull();
  });

  it('shows joins, parts and topic changes as lines, and the channel topic and members', () => {
    const line = (key: string, system: 'join' | 'part' | 'topic', from: string, content = '') => ({
      key, id: key, system, from, content, timestamp: 1, status: 'sent' as const,
    });
    const messages = [line('e1', 'join', 'kei'), line('e2', 'topic', 'kei', 'exams on friday'), line('e3', 'part', 'Arona'), line('e4', 'topic', 'kei')];
    render(<ChatScreen {...props({ conversation: conversation({ messages, topic: 'exams on friday', members: ['kei', 'sensei'] }) })} />);
    expect(screen.getByTestId('system-e1')).toHaveTextContent(/^→ kei joined · /);
    expect(screen.getByTestId('system-e2')).toHaveTextContent(/^✎ kei set the topic: exams on friday · /);
    expect(screen.getByTestId('system-e3')).toHaveTextContent(/^← Arona left · /);
    expect(screen.getByTestId('system-e4')).toHaveTextContent(/^✎ kei cleared the topic · /);
    expect(screen.getByTestId('channel-topic')).toHaveTextContent('exams on friday');
    expect(screen.getByTestId('channel-members')).toHaveTextContent('2 members: kei, sensei');
  });

  it('sends "/me waves" as an action, and keeps a bare /me in the composer with a hint', () => {
    const sent: string[] = [];
    render(<ChatScreen {...props({ onSend: async (text) => void sent.push(text) })} />);
    fireEvent.changeText(screen.getByTestId('composer'), '/me   waves');
    fireEvent.press(screen.getByTestId('send'));
    fireEvent.changeText(screen.getByTestId('composer'), '/me ');
    fireEvent.press(screen.getByTestId('send'));
    expect(sent).toEqual(['/me waves']);
    expect(screen.getByTestId('chat-error')).toHaveTextContent(/say what you do after \/me/);
    expect(screen.getByTestId('composer').props.value).toBe('/me ');
  });

  it('tells the user when the start of the conversation is reached', () => {
    render(<ChatScreen {...props({ conversation: conversation({ reachedStart: true }) })} />);
    expect(screen.getByText("That's the very beginning of #general, Sensei.")).toBeTruthy();
  });
});
