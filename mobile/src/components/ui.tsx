/** Small themed building blocks shared by every screen; colours come from the theme context. */
import { type ReactNode, useMemo } from 'react';
import { Pressable, StyleSheet, Text, TextInput, type TextInputProps, View } from 'react-native';

import { useTheme } from '../theme/ThemeContext';
import type { Palette } from '../theme/theme';
import { HALO } from '../theme/voice';

export function Header({ title, subtitle, right }: { title: string; subtitle?: string; right?: ReactNode }) {
  const styles = useStyles();
  return (
    <View style={styles.header} testID="header">
      <View style={{ flex: 1 }}>
        <Text style={styles.halo}>{HALO}</Text>
        <Text style={styles.title} accessibilityRole="header">
          {title}
        </Text>
        {subtitle ? <Text style={styles.subtitle}>{subtitle}</Text> : null}
      </View>
      <ThemeToggle />
      {right}
    </View>
  );
}

/** Flip between Arona's light and dark palettes (the system's choice until flipped). */
export function ThemeToggle() {
  const { scheme, toggle } = useTheme();
  const label = scheme === 'dark' ? 'Light theme' : 'Dark theme';
  return <Button label={scheme === 'dark' ? '☀' : '☾'} accessibilityLabel={label} kind="quiet" testID="theme-toggle" onPress={toggle} />;
}

export interface ButtonProps {
  readonly label: string;
  readonly onPress: () => void;
  readonly testID?: string;
  readonly disabled?: boolean;
  readonly kind?: 'primary' | 'quiet';
  readonly accessibilityLabel?: string;
}

export function Button(props: ButtonProps) {
  const styles = useStyles();
  const quiet = props.kind === 'quiet';
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={props.accessibilityLabel}
      testID={props.testID}
      disabled={props.disabled}
      onPress={props.onPress}
      style={[styles.button, quiet && styles.quietButton, props.disabled && styles.disabled]}
    >
      <Text style={[styles.buttonText, quiet && styles.quietText]}>{props.label}</Text>
    </Pressable>
  );
}

export function Field(props: TextInputProps & { label: string }) {
  const styles = useStyles();
  const { palette } = useTheme();
  const { label, style, ...input } = props;
  return (
    <View style={styles.field}>
      <Text style={styles.label}>{label}</Text>
      <TextInput
        accessibilityLabel={label}
        autoCapitalize="none"
        autoCorrect={false}
        placeholderTextColor={palette.muted}
        style={[styles.input, style]}
        {...input}
      />
    </View>
  );
}

/** Arona speaking: notices, warnings and errors in her voice. */
export function Notice({ text, tone = 'info', testID }: { text: string; tone?: 'info' | 'warning' | 'error'; testID?: string }) {
  const styles = useStyles();
  const { palette } = useTheme();
  const tint = tone === 'error' ? palette.error : tone === 'warning' ? palette.warning : palette.primary;
  return (
    <View testID={testID} accessibilityRole="alert" style={[styles.notice, { borderLeftColor: tint }]}>
      <Text style={styles.noticeText}>{text}</Text>
    </View>
  );
}

export type Styles = ReturnType<typeof makeStyles>;

/** The shared styles in one palette. */
export function makeStyles(colors: Palette) {
  return StyleSheet.create({
    screen: { flex: 1, backgroundColor: colors.background },
    body: { padding: 16, gap: 12 },
    header: {
      flexDirection: 'row',
      alignItems: 'center',
      gap: 8,
      paddingHorizontal: 16,
      paddingVertical: 12,
      backgroundColor: colors.panel,
      borderBottomColor: colors.secondary,
      borderBottomWidth: 1,
    },
    halo: { color: colors.halo, fontSize: 12 },
    title: { color: colors.foreground, fontSize: 20, fontWeight: '700' },
    subtitle: { color: colors.muted, fontSize: 13 },
    button: { backgroundColor: colors.primary, borderRadius: 20, paddingVertical: 10, paddingHorizontal: 18, alignItems: 'center' },
    quietButton: { backgroundColor: 'transparent', borderColor: colors.primary, borderWidth: 1 },
    disabled: { opacity: 0.5 },
    buttonText: { color: colors.dark ? colors.background : '#ffffff', fontWeight: '700' },
    quietText: { color: colors.primary },
    field: { gap: 4 },
    label: { color: colors.muted, fontSize: 13 },
    input: {
      borderColor: colors.secondary,
      borderWidth: 1,
      borderRadius: 10,
      paddingHorizontal: 12,
      paddingVertical: 8,
      color: colors.foreground,
      backgroundColor: colors.surface,
    },
    notice: { backgroundColor: colors.highlight, borderLeftWidth: 4, padding: 10, borderRadius: 6 },
    noticeText: { color: colors.foreground },
  });
}

/** The shared styles in the palette on screen, built once per palette. */
export function useStyles(): Styles {
  const { palette } = useTheme();
  return useMemo(() => makeStyles(palette), [palette]);
}
