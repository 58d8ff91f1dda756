/**
 * What the user sees of a failover: the reducer keeps which node the session moved to until
 * the link changes again, the banner says it in Arona's voice, and a changed key at any
 * address of a typed list is trusted for the whole list.
 */
import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import { LinkBanner } from '../../src/components/LinkBanner';
import { KeyChangedError } from '../../src/protocol/errors';
import { ConnectScreen } from '../../src/screens/ConnectScreen';
import { chatReducer, initialChatState } from '../../src/state/chat';

describe('the moved notice', () => {
  it('is kept from the move until it is read or the link changes again', () => {
    const online = chatReducer(initialChatState, { type: 'linkChanged', link: 'online' });
    const moved = chatReducer(online, { type: 'nodeMoved', address: 'ws://h2:7778/artp' });
    expect(moved.movedTo).toBe('ws://h2:7778/artp');
    expect(chatReducer(moved, { type: 'linkChanged', link: 'online' }).movedTo).toBe('ws://h2:7778/artp');
    expect(chatReducer(moved, { type: 'linkChanged', link: 'offline' }).movedTo).toBeUndefined();
    expect(chatReducer(moved, { type: 'nodeMoved', address: null }).movedTo).toBeUndefined();
  });

  it('says where the session is now, only while online', () => {
    const { rerender } = render(<LinkBanner link="online" problem={null} movedTo="wss://h2.example:8443/artp" />);
    expect(screen.getByTestId('moved-notice')).toHaveTextContent('Moved to h2.example:8443 — nothing was lost, Sensei!');
    rerender(<LinkBanner link="connecting" problem={null} movedTo="wss://h2.example:8443/artp" />);
    expect(screen.queryByTestId('moved-notice')).toBeNull();
    rerender(<LinkBanner link="online" problem={null} />);
    expect(screen.queryByTestId('moved-notice')).toBeNull();
  });
});

describe('a changed key on a list of addresses', () => {
  it('is trusted for the list typed, not only for the address that showed it', async () => {
    const trusted: string[] = [];
    render(
      <ConnectScreen
        initialAddress="h1:7778, h2:7778"
        onConnect={async () => {
          if (trusted.length === 0) throw new KeyChangedError('h2:7778', 'SHA256:old', 'SHA256:new');
          return { node: 'kivotos', address: 'h2:7778', fingerprint: 'SHA256:new', pin: 'match' };
        }}
        onTrustNewKey={async (addresses) => void trusted.push(addresses)}
        onConnected={() => undefined}
      />,
    );
    fireEvent.press(screen.getByTestId('connect'));
    expect(await screen.findByTestId('key-changed')).toHaveTextContent(/h2:7778/);
    fireEvent.press(screen.getByTestId('trust-new-key'));
    await waitFor(() => expect(trusted).toEqual(['h1:7778, h2:7778']));
  });
});
