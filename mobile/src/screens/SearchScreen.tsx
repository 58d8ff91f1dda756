/**
 * Searching messages (PROTOCOL.md §14.15): every conversation the user can read, or only the
 * one open. Words must all match, `"a phrase"` and `word*` work; results come newest first with
 * the matched words marked, each under its conversation, sender and time, a page at a time
 * ("More results"). Choosing one opens its conversation at that message.
 */
import { useRef, useState } from 'react';
import { Pressable, ScrollView, Text, View } from 'react-native';

import { markedSegments } from '../protocol/marks';
import type { SearchResult } from '../protocol/messages';
import { dayLabel, timeLabel } from '../components/timeline';
import { Button, Field, Header, Notice, useStyles } from '../components/ui';
import { conversationOf, conversationKey } from '../state/conversations';
import type { SearchPage, SearchScope } from '../state/sessionTypes';
import { useTheme } from '../theme/ThemeContext';
import { voice } from '../theme/voice';

export interface SearchScreenProps {
  readonly me: string;
  /** The conversation open when search was opened: offered as a narrower scope. */
  readonly here?: { readonly destType: 'channel' | 'user'; readonly dest: string; readonly title: string } | null;
  readonly onSearch: (query: string, scope: SearchScope, before?: string) => Promise<SearchPage>;
  /** A result was chosen: open its conversation (`key`) at message `id`. */
  readonly onPick: (key: string, destType: 'channel' | 'user', dest: string, id: string) => void;
  readonly onBack: () => void;
}

/** Where a result was said, as a title: `#general` or `@kei`. */
function placeOf(result: SearchResult, me: string): { key: string; destType: 'channel' | 'user'; dest: string; title: string } {
  const where = conversationOf(result, me);
  const key = conversationKey(where.destType, where.dest);
  return { key, ...where, title: where.destType === 'channel' ? where.dest : `@${where.dest}` };
}

export function SearchScreen(props: SearchScreenProps) {
  const styles = useStyles();
  const { palette: colors } = useTheme();
  const [query, setQuery] = useState('');
  const [onlyHere, setOnlyHere] = useState(false);
  const [results, setResults] = useState<readonly SearchResult[] | null>(null);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [searched, setSearched] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const asked = useRef(0);

  const scope: SearchScope = onlyHere && props.here ? { destType: props.here.destType, dest: props.here.dest } : null;

  const run = async (more: boolean) => {
    const wanted = more ? searched : query.trim();
    if (!wanted || busy) return;
    const ticket = ++asked.current;
    setBusy(true);
    setError(null);
    try {
      const page = await props.onSearch(wanted, scope, more ? next : undefined);
      if (ticket !== asked.current) return;
      setSearched(wanted);
      setResults((before) => (more && before ? [...before, ...page.results] : page.results));
      setNext(page.next);
    } catch (caught) {
      if (ticket === asked.current) setError(voice.failure('searching', caught));
    } finally {
      if (ticket === asked.current) setBusy(false);
    }
  };

  return (
    <View style={styles.screen}>
      <Header title="Search" subtitle="Messages you can read" onBack={props.onBack} />
      <View style={[styles.body, { maxWidth: undefined, paddingBottom: 8 }]}>
        <View style={{ flexDirection: 'row', alignItems: 'flex-end', gap: 8 }}>
          <View style={{ flex: 1 }}>
            <Field
              label="Search messages"
              testID="search-query"
              value={query}
              onChangeText={setQuery}
              onSubmitEditing={() => void run(false)}
              returnKeyType="search"
              autoFocus
              placeholder='words, "a phrase", or pre*'
            />
          </View>
          <Button label="Search" testID="search-go" onPress={() => void run(false)} disabled={busy || !query.trim()} />
        </View>
        {props.here ? (
          <View role="radiogroup" aria-label="Where to search" style={{ flexDirection: 'row', gap: 8 }}>
            <ScopeChip label="Everywhere" testID="search-everywhere" selected={!onlyHere} onPress={() => setOnlyHere(false)} />
            <ScopeChip label={`In ${props.here.title}`} testID="search-here" selected={onlyHere} onPress={() => setOnlyHere(true)} />
          </View>
        ) : null}
      </View>
      {error ? (
        <View style={{ paddingHorizontal: 16, paddingBottom: 8 }}>
          <Notice tone="error" text={error} testID="search-error" />
        </View>
      ) : null}
      <ScrollView style={{ flex: 1 }} contentContainerStyle={{ paddingBottom: 16 }}>
        {results !== null && results.length === 0 ? (
          <View style={{ padding: 16 }}>
            <Notice text={voice.noSearchResults(searched)} testID="search-empty" />
          </View>
        ) : null}
        {results && results.length > 0 ? (
          <View role="list" aria-label={`Results for ${searched}`} testID="search-results">
            {results.map((result) => {
              const place = placeOf(result, props.me);
              return (
                <ResultRow
                  key={`${place.key}:${result.id}`}
                  result={result}
                  place={place.title}
                  onPress={() => props.onPick(place.key, place.destType, place.dest, result.id)}
                />
              );
            })}
          </View>
        ) : null}
        {next !== undefined && results && results.length > 0 ? (
          <View style={{ padding: 16, alignItems: 'center' }}>
            <Button label="More results" kind="quiet" testID="search-more" onPress={() => void run(true)} disabled={busy} />
          </View>
        ) : null}
        {busy ? <Text style={{ color: colors.muted, textAlign: 'center', padding: 12 }}>Searching…</Text> : null}
      </ScrollView>
    </View>
  );
}

function ScopeChip({ label, testID, selected, onPress }: { label: string; testID: string; selected: boolean; onPress: () => void }) {
  const { palette: colors } = useTheme();
  return (
    <Pressable
      role="radio"
      aria-checked={selected}
      aria-label={label}
      testID={testID}
      onPress={onPress}
      style={{ borderRadius: 14, paddingHorizontal: 12, paddingVertical: 5, borderWidth: 1, borderColor: selected ? colors.action : colors.border, backgroundColor: selected ? colors.panel : 'transparent' }}
    >
      <Text style={{ color: selected ? colors.link : colors.foreground, fontWeight: selected ? '700' : '400' }}>{label}</Text>
    </Pressable>
  );
}

function ResultRow({ result, place, onPress }: { result: SearchResult; place: string; onPress: () => void }) {
  const { palette: colors } = useTheme();
  const segments = markedSegments(result.content, result.marks ?? []);
  const when = `${dayLabel(result.timestamp)} ${timeLabel(result.timestamp)}`;
  return (
    <View role="listitem">
      <Pressable
        role="button"
        testID={`search-result-${result.id}`}
        onPress={onPress}
        style={{ paddingHorizontal: 16, paddingVertical: 10, borderBottomWidth: 1, borderBottomColor: colors.panel, gap: 3 }}
      >
        <View style={{ flexDirection: 'row', gap: 8, alignItems: 'baseline' }}>
          <Text style={{ color: colors.foreground, fontWeight: '700' }}>{place}</Text>
          <Text style={{ color: colors.link, fontWeight: '700', flexShrink: 1 }} numberOfLines={1}>
            {result.from}
          </Text>
          <Text style={{ color: colors.muted, fontSize: 12, marginLeft: 'auto' }}>{when}</Text>
        </View>
        <Text numberOfLines={3} style={{ color: colors.foreground, lineHeight: 20 }}>
          {segments.map((segment, at) =>
            segment.marked ? (
              <Text key={at} testID="search-mark" style={{ fontWeight: '700', backgroundColor: colors.highlight, color: colors.foreground }}>
                {segment.text}
              </Text>
            ) : (
              segment.text
            ),
          )}
        </Text>
      </Pressable>
    </View>
  );
}
