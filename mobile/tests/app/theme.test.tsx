/**
 * Arona's dark palette: the app follows the system colour scheme (useColorScheme) and the
 * toggle in every header flips it, remembering the choice.
 */
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import { ConversationsScreen } from '../../src/screens/ConversationsScreen';
import { ThemeProvider, toggledPreference } from '../../src/theme/ThemeContext';
import { ARONA_DARK, ARONA_LIGHT } from '../../src/theme/theme';
import { memoryStore } from '../support/memoryStore';

let mockSystemScheme: 'light' | 'dark' | null = 'light';
jest.mock('react-native/Libraries/Utilities/useColorScheme', () => ({
  __esModule: true,
  default: () => mockSystemScheme,
}));

function App({ store = memoryStore() }: { store?: ReturnType<typeof memoryStore> }) {
  return (
    <ThemeProvider store={store}>
      <ConversationsScreen user="sensei" link="online" conversations={[]} onOpen={() => undefined} onStart={async () => undefined} />
    </ThemeProvider>
  );
}

const headerColour = () => screen.getByTestId('header');

describe('the theme', () => {
  afterEach(() => {
    mockSystemScheme = 'light';
  });

  it('is dark when the system is dark', () => {
    mockSystemScheme = 'dark';
    render(<App />);
    expect(headerColour()).toHaveStyle({ backgroundColor: ARONA_DARK.panel });
  });

  it('is light when the system is light or says nothing', () => {
    mockSystemScheme = null;
    render(<App />);
    expect(headerColour()).toHaveStyle({ backgroundColor: ARONA_LIGHT.panel });
  });

  it('flips to dark with the toggle and remembers the choice', async () => {
    const store = memoryStore();
    render(<App store={store} />);
    fireEvent.press(screen.getByTestId('theme-toggle'));
    expect(headerColour()).toHaveStyle({ backgroundColor: ARONA_DARK.panel });
    await waitFor(async () => expect(await store.get('aronanet.colour_scheme')).toBe('dark'));
  });

  it('starts in the remembered scheme, whatever the system says', async () => {
    const store = memoryStore();
    await store.set('aronanet.colour_scheme', 'dark');
    render(<App store={store} />);
    await waitFor(() => expect(headerColour()).toHaveStyle({ backgroundColor: ARONA_DARK.panel }));
  });

  it('follows the system again once flipped back to what the system shows', () => {
    expect(toggledPreference('light', 'light')).toBe('dark');
    expect(toggledPreference('dark', 'light')).toBe('system');
    expect(toggledPreference('dark', 'dark')).toBe('light');
  });

  it('recolours when the system scheme changes', () => {
    const { rerender } = render(<App />);
    expect(headerColour()).toHaveStyle({ backgroundColor: ARONA_LIGHT.panel });
    mockSystemScheme = 'dark';
    act(() => rerender(<App />));
    expect(headerColour()).toHaveStyle({ backgroundColor: ARONA_DARK.panel });
  });
});
