/** Small themed building blocks shared by every screen; colours come from the theme context. */
import { type ReactNode, type Ref, useMemo } from 'react';
import { Platform, Pressable, StyleSheet, Text, TextInput, type TextInputProps, View } from 'react-native';

import { useTheme } from '../theme/ThemeContext';
import type { Palette } from '../theme/theme';
import { HALO } from '../theme/voice';

/** The widest a column of text or a form gets: long lines are hard to read (about 75 characters). */
export const READABLE_WIDTH = 760;
export const FORM_WIDTH = 480;

export interface HeaderProps {
  readonly title: string;
  readonly subtitle?: string;
  /** A back chevron on the left (phone layout: back to the conversation list). */
  readonly onBack?: () => void;
  /** Icon buttons on the right, before the theme toggle. */
  readonly actions?: ReactNode;
  /** Anything else at the far right, after the theme toggle. */
  readonly right?: ReactNode;
  /** False where another header beside this one already has the toggle (the list in two panes). */
  readonly themeToggle?: boolean;
}

export function Header({ title, subtitle, onBack, actions, right, themeToggle = true }: HeaderProps) {
  const styles = useStyles();
  return (
    <View style={styles.header} testID="header">
      {onBack ? <IconButton icon="‹" label="Back to conversations" testID="back" onPress={onBack} large /> : null}
      <View style={{ flex: 1, minWidth: 0 }}>
        {/* Decoration only: a screen reader would read "ring above, sparkle, circle..." on every screen. */}
        <Text style={styles.halo} aria-hidden accessibilityElementsHidden importantForAccessibility="no-hide-descendants">
          {HALO}
        </Text>
        <Text style={styles.title} role="heading" aria-level={1} numberOfLines={1} testID="header-title">
          {title}
        </Text>
        {subtitle ? (
          <Text style={styles.subtitle} numberOfLines={1} testID="header-subtitle">
            {subtitle}
          </Text>
        ) : null}
      </View>
      {actions}
      {themeToggle ? <ThemeToggle /> : null}
      {right}
    </View>
  );
}

/** Flip between Arona's light and dark palettes (the system's choice until flipped). */
export function ThemeToggle() {
  const { scheme, toggle } = useTheme();
  const label = scheme === 'dark' ? 'Light theme' : 'Dark theme';
  return <IconButton icon={scheme === 'dark' ? '☀' : '☾'} label={label} testID="theme-toggle" onPress={toggle} />;
}

export interface ButtonProps {
  readonly label: string;
  readonly onPress: () => void;
  readonly testID?: string;
  readonly disabled?: boolean;
  readonly kind?: 'primary' | 'quiet' | 'danger';
  readonly accessibilityLabel?: string;
}

/** What every pressable control shares: the button role, its name, its disabled state. */
function pressableProps(props: { label?: string; testID?: string; disabled?: boolean; onPress: () => void }) {
  return { role: 'button' as const, 'aria-label': props.label, testID: props.testID, disabled: props.disabled, 'aria-disabled': props.disabled, onPress: props.onPress };
}

export function Button(props: ButtonProps) {
  const styles = useStyles();
  const quiet = props.kind === 'quiet';
  const danger = props.kind === 'danger';
  return (
    <Pressable
      {...pressableProps({ ...props, label: props.accessibilityLabel })}
      style={[styles.button, quiet && styles.quietButton, danger && styles.dangerButton, props.disabled && styles.disabled]}
    >
      <Text style={[styles.buttonText, (quiet || danger) && styles.quietText, danger && styles.dangerText]}>{props.label}</Text>
    </Pressable>
  );
}

/** A small quiet text button for headers (Log out, Leave). */
export function SmallButton(props: Omit<ButtonProps, 'kind'>) {
  const styles = useStyles();
  return (
    <Pressable {...pressableProps({ ...props, label: props.accessibilityLabel })} style={styles.smallButton}>
      <Text style={styles.quietText}>{props.label}</Text>
    </Pressable>
  );
}

export interface IconButtonProps {
  readonly icon: string;
  /** What a screen reader says, and the tooltip on the web. */
  readonly label: string;
  readonly onPress: () => void;
  readonly testID?: string;
  readonly disabled?: boolean;
  /** Filled with the action colour (the send button). */
  readonly filled?: boolean;
  readonly large?: boolean;
}

/** A round icon button: the icon is hidden from screen readers, the label speaks for it. */
export function IconButton(props: IconButtonProps) {
  const styles = useStyles();
  return (
    <Pressable
      {...pressableProps(props)}
      {...(Platform.OS === 'web' ? { title: props.label } : {})}
      style={[styles.iconButton, props.filled && styles.iconButtonFilled, props.disabled && styles.disabled]}
    >
      <Text aria-hidden style={[styles.iconText, props.large && styles.iconTextLarge, props.filled && styles.iconTextFilled]}>
        {props.icon}
      </Text>
    </Pressable>
  );
}

export function Field(props: TextInputProps & { label: string; hideLabel?: boolean; ref?: Ref<TextInput> }) {
  const styles = useStyles();
  const { palette } = useTheme();
  const { label, hideLabel, style, ...input } = props;
  return (
    <View style={styles.field}>
      {hideLabel ? null : (
        <Text style={styles.label} aria-hidden>
          {label}
        </Text>
      )}
      <TextInput
        aria-label={label}
        autoCapitalize="none"
        autoCorrect={false}
        placeholderTextColor={palette.muted}
        style={[styles.input, style]}
        {...input}
      />
    </View>
  );
}

/** Text a screen reader reads but nobody sees (the "unread" after a badge's number). */
export function ScreenReaderText({ children }: { children: string }) {
  return <Text style={srOnly}>{children}</Text>;
}

const srOnly = { position: 'absolute', width: 1, height: 1, overflow: 'hidden', opacity: 0 } as const;

export type NoticeTone = 'info' | 'warning' | 'error';

/**
 * Arona speaking: notices, warnings and errors in her voice, coloured by kind. Only an error
 * interrupts a screen reader (role=alert); a warning is a polite status; information is text.
 */
export function Notice({ text, tone = 'info', testID, children }: { text: string; tone?: NoticeTone; testID?: string; children?: ReactNode }) {
  const styles = useStyles();
  const { palette } = useTheme();
  const tint = tone === 'error' ? palette.error : tone === 'warning' ? palette.warning : palette.primary;
  const fill = tone === 'error' ? palette.highlight : palette.info;
  const role = tone === 'error' ? 'alert' : tone === 'warning' ? 'status' : undefined;
  return (
    <View testID={testID} role={role} style={[styles.notice, { borderLeftColor: tint, backgroundColor: fill }]}>
      <Text style={styles.noticeText}>{text}</Text>
      {children}
    </View>
  );
}

/** `SHA256:abcd…` as groups of four, so two people can read it to each other without getting lost. */
export function groupFingerprint(fingerprint: string): string {
  const [prefix, digest] = fingerprint.includes(':') ? (fingerprint.split(':', 2) as [string, string]) : ['', fingerprint];
  const groups = digest.match(/.{1,4}/g) ?? [];
  return `${prefix ? `${prefix}: ` : ''}${groups.join(' ')}`;
}

/** A fingerprint in a monospace block, grouped; it never wraps mid-group. */
export function Fingerprint({ value, testID }: { value: string; testID?: string }) {
  const styles = useStyles();
  return (
    <Text testID={testID} selectable style={styles.fingerprint} aria-label={`Fingerprint ${value}`}>
      {groupFingerprint(value)}
    </Text>
  );
}

export type Styles = ReturnType<typeof makeStyles>;

const MONOSPACE = Platform.select({ ios: 'Menlo', android: 'monospace', default: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' });

/** The shared styles in one palette. */
export function makeStyles(colors: Palette) {
  return StyleSheet.create({
    screen: { flex: 1, backgroundColor: colors.background },
    body: { padding: 16, gap: 12, width: '100%', maxWidth: FORM_WIDTH, alignSelf: 'center' },
    header: {
      flexDirection: 'row',
      alignItems: 'center',
      gap: 6,
      paddingHorizontal: 12,
      paddingVertical: 8,
      minHeight: 60,
      backgroundColor: colors.panel,
      borderBottomColor: colors.secondary,
      borderBottomWidth: 1,
    },
    halo: { color: colors.halo, fontSize: 10 },
    title: { color: colors.foreground, fontSize: 18, fontWeight: '700' },
    subtitle: { color: colors.muted, fontSize: 13 },
    button: { backgroundColor: colors.action, borderRadius: 20, paddingVertical: 10, paddingHorizontal: 18, alignItems: 'center' },
    quietButton: { backgroundColor: 'transparent', borderColor: colors.link, borderWidth: 1 },
    dangerButton: { backgroundColor: 'transparent', borderColor: colors.errorText, borderWidth: 1 },
    disabled: { opacity: 0.55 },
    buttonText: { color: colors.onAction, fontWeight: '700' },
    quietText: { color: colors.link },
    dangerText: { color: colors.errorText },
    smallButton: { borderColor: colors.link, borderWidth: 1, borderRadius: 14, paddingHorizontal: 10, paddingVertical: 4 },
    iconButton: { width: 40, height: 40, borderRadius: 20, alignItems: 'center', justifyContent: 'center' },
    iconButtonFilled: { backgroundColor: colors.action },
    iconText: { color: colors.link, fontSize: 20, fontWeight: '700' },
    iconTextLarge: { fontSize: 30, lineHeight: 32 },
    iconTextFilled: { color: colors.onAction },
    field: { gap: 4 },
    label: { color: colors.muted, fontSize: 13 },
    input: {
      borderColor: colors.border,
      borderWidth: 1,
      borderRadius: 10,
      paddingHorizontal: 12,
      paddingVertical: 8,
      color: colors.foreground,
      backgroundColor: colors.surface,
    },
    notice: { borderLeftWidth: 4, padding: 10, borderRadius: 6, gap: 8 },
    noticeText: { color: colors.foreground },
    fingerprint: {
      fontFamily: MONOSPACE,
      color: colors.foreground,
      backgroundColor: colors.surface,
      borderColor: colors.border,
      borderWidth: 1,
      borderRadius: 6,
      padding: 8,
      fontSize: 14,
      lineHeight: 22,
    },
  });
}

/** The shared styles in the palette on screen, built once per palette. */
export function useStyles(): Styles {
  const { palette } = useTheme();
  return useMemo(() => makeStyles(palette), [palette]);
}

/**
 * The accessible name of a Modal: react-native-web renders it as role=dialog and passes
 * other props through, but React Native's Modal type does not list aria-label.
 */
export function dialogName(name: string): object {
  return { 'aria-label': name };
}

/**
 * A toggle button's state: `aria-pressed` on the web; React Native has no such prop, so a phone's
 * screen reader hears it as "selected".
 */
export function pressedState(pressed: boolean): object {
  return Platform.OS === 'web' ? { 'aria-pressed': pressed } : { accessibilityState: { selected: pressed } };
}
