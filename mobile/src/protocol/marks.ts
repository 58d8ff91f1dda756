/**
 * Search marks (PROTOCOL.md §14.15): `[start, length]` pairs counted in Unicode code points of
 * a result's `content`, as the node counts. JavaScript strings index UTF-16 code units, where an
 * emoji or any character past U+FFFF takes two, so each mark is converted here before the text is
 * cut: done naively, every mark after such a character would land one unit too early per emoji.
 */

/** One piece of a result's text: marked (a matched word) or not. */
export interface TextSegment {
  readonly text: string;
  readonly marked: boolean;
}

/**
 * The marks as UTF-16 `[start, end)` ranges, sorted, merged where they overlap or touch, and
 * clamped to the text (a mark past the end is dropped: a node bug must not break the screen).
 */
export function marksToUtf16(content: string, marks: readonly (readonly [number, number])[]): [number, number][] {
  // offsets[i] = the UTF-16 index of code point i; offsets[count] = content.length
  const offsets: number[] = [];
  for (let unit = 0; unit < content.length; ) {
    offsets.push(unit);
    unit += (content.codePointAt(unit) as number) > 0xffff ? 2 : 1;
  }
  const count = offsets.length;
  offsets.push(content.length);
  const ranges = marks
    .filter(([start, length]) => Number.isInteger(start) && Number.isInteger(length) && start >= 0 && length > 0 && start < count)
    .map(([start, length]): [number, number] => [offsets[start] as number, offsets[Math.min(count, start + length)] as number])
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}

/** The text cut into marked and unmarked pieces, in order, for rendering with the words bold. */
export function markedSegments(content: string, marks: readonly (readonly [number, number])[]): TextSegment[] {
  const segments: TextSegment[] = [];
  let at = 0;
  for (const [start, end] of marksToUtf16(content, marks)) {
    if (start > at) segments.push({ text: content.slice(at, start), marked: false });
    segments.push({ text: content.slice(start, end), marked: true });
    at = end;
  }
  if (at < content.length || segments.length === 0) segments.push({ text: content.slice(at), marked: false });
  return segments;
}
