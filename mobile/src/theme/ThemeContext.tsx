/**
 * Which of Arona's palettes is on screen. It follows the system colour scheme
 * (`useColorScheme`) until the user flips the toggle; flipping back to what the system shows
 * returns to following it. The choice is remembered on the device.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { useColorScheme } from 'react-native';

import type { KeyValueStore } from '../platform/keyValue';
import { ARONA_DARK, ARONA_LIGHT, type Palette } from './theme';

export type SchemePreference = 'system' | 'light' | 'dark';
export type Scheme = 'light' | 'dark';

const PREFERENCE_KEY = 'aronanet.colour_scheme';

export interface ThemeValue {
  readonly palette: Palette;
  readonly scheme: Scheme;
  readonly preference: SchemePreference;
  /** Switch to the other palette. */
  readonly toggle: () => void;
}

/** The scheme to show: the user's explicit choice, else the system's (light when unknown). */
export function resolveScheme(preference: SchemePreference, system: string | null | undefined): Scheme {
  if (preference !== 'system') return preference;
  return system === 'dark' ? 'dark' : 'light';
}

/** The preference after a flip: the other scheme, or 'system' when that is what the system shows. */
export function toggledPreference(current: Scheme, system: string | null | undefined): SchemePreference {
  const wanted: Scheme = current === 'dark' ? 'light' : 'dark';
  return resolveScheme('system', system) === wanted ? 'system' : wanted;
}

const ThemeContext = createContext<ThemeValue>({
  palette: ARONA_LIGHT,
  scheme: 'light',
  preference: 'system',
  toggle: () => undefined,
});

export function ThemeProvider({ store, children }: { store?: KeyValueStore; children: ReactNode }) {
  const system = useColorScheme();
  const [preference, setPreference] = useState<SchemePreference>('system');

  useEffect(() => {
    let live = true;
    store?.get(PREFERENCE_KEY).then(
      (saved) => live && (saved === 'light' || saved === 'dark') && setPreference(saved),
      () => undefined, // no saved choice: follow the system
    );
    return () => {
      live = false;
    };
  }, [store]);

  const scheme = resolveScheme(preference, system);
  const toggle = useCallback(() => {
    const next = toggledPreference(scheme, system);
    setPreference(next);
    store?.set(PREFERENCE_KEY, next).catch(() => undefined);
  }, [scheme, system, store]);

  const value = useMemo<ThemeValue>(
    () => ({ palette: scheme === 'dark' ? ARONA_DARK : ARONA_LIGHT, scheme, preference, toggle }),
    [scheme, preference, toggle],
  );
  return <ThemeContext.Provider value={value}>{children}</ThemeContext.Provider>;
}

export function useTheme(): ThemeValue {
  return useContext(ThemeContext);
}
