/**
 * What a reaction may be (PROTOCOL.md §14.12), mirroring `aronanet.proto.emoji`: ONE emoji
 * grapheme, 1..16 code points. The first is a pictograph (Extended_Pictographic), or the pair
 * of regional indicators of a flag, or a keycap (`[0-9#*]`, an optional VS16, U+20E3). After a
 * pictograph come only the joiners of one grapheme: ZWJ (U+200D) followed by another
 * pictograph, VS16 (U+FE0F), skin tones (U+1F3FB..1F3FF) and tag characters (U+E0020..E007F).
 * Text, `:smile:` and two emoji side by side are refused, so the node and every client agree
 * on each reaction (shared cases: tests/vectors/emoji.json).
 */

/** The node's wording for a refused reaction (proto/wording.py), for a local refusal too. */
export const INVALID_EMOJI = 'invalid emoji: a reaction is one emoji';

export const MAX_EMOJI_CODE_POINTS = 16;

const ZWJ = 0x200d;
const VS16 = 0xfe0f;
const KEYCAP = 0x20e3;
/**
 * Extended_Pictographic (Unicode 15.1 emoji-data.txt) as inclusive ranges, sorted: the same
 * table as the node's, not the JavaScript engine's `\p{Extended_Pictographic}`, whose Unicode
 * version depends on the browser and could disagree with the node on a new emoji.
 */
const PICTOGRAPHIC: readonly (readonly [number, number])[] = [
  [0x00a9, 0x00a9], [0x00ae, 0x00ae], [0x203c, 0x203c], [0x2049, 0x2049], [0x2122, 0x2122], [0x2139, 0x2139],
  [0x2194, 0x2199], [0x21a9, 0x21aa], [0x231a, 0x231b], [0x2328, 0x2328], [0x2388, 0x2388], [0x23cf, 0x23cf],
  [0x23e9, 0x23f3], [0x23f8, 0x23fa], [0x24c2, 0x24c2], [0x25aa, 0x25ab], [0x25b6, 0x25b6], [0x25c0, 0x25c0],
  [0x25fb, 0x25fe], [0x2600, 0x2605], [0x2607, 0x2612], [0x2614, 0x2685], [0x2690, 0x2705], [0x2708, 0x2712],
  [0x2714, 0x2714], [0x2716, 0x2716], [0x271d, 0x271d], [0x2721, 0x2721], [0x2728, 0x2728], [0x2733, 0x2734],
  [0x2744, 0x2744], [0x2747, 0x2747], [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757],
  [0x2763, 0x2767], [0x2795, 0x2797], [0x27a1, 0x27a1], [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2934, 0x2935],
  [0x2b05, 0x2b07], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55], [0x3030, 0x3030], [0x303d, 0x303d],
  [0x3297, 0x3297], [0x3299, 0x3299], [0x1f000, 0x1f0ff], [0x1f10d, 0x1f10f], [0x1f12f, 0x1f12f], [0x1f16c, 0x1f171],
  [0x1f17e, 0x1f17f], [0x1f18e, 0x1f18e], [0x1f191, 0x1f19a], [0x1f1ad, 0x1f1e5], [0x1f201, 0x1f20f], [0x1f21a, 0x1f21a],
  [0x1f22f, 0x1f22f], [0x1f232, 0x1f23a], [0x1f23c, 0x1f23f], [0x1f249, 0x1f3fa], [0x1f400, 0x1f53d], [0x1f546, 0x1f64f],
  [0x1f680, 0x1f6ff], [0x1f774, 0x1f77f], [0x1f7d5, 0x1f7ff], [0x1f80c, 0x1f80f], [0x1f848, 0x1f84f], [0x1f85a, 0x1f85f],
  [0x1f888, 0x1f88f], [0x1f8ae, 0x1f8ff], [0x1f90c, 0x1f93a], [0x1f93c, 0x1f945], [0x1f947, 0x1faff], [0x1fc00, 0x1fffd],
];

const isRegionalIndicator = (cp: number) => cp >= 0x1f1e6 && cp <= 0x1f1ff;
const isSkinTone = (cp: number) => cp >= 0x1f3fb && cp <= 0x1f3ff;
const isTag = (cp: number) => cp >= 0xe0020 && cp <= 0xe007f;
const isKeycapBase = (cp: number) => (cp >= 0x30 && cp <= 0x39) || cp === 0x23 || cp === 0x2a;

/** Binary search of `PICTOGRAPHIC`. */
export function isPictographic(cp: number): boolean {
  let low = 0;
  let high = PICTOGRAPHIC.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const [first, last] = PICTOGRAPHIC[middle] as readonly [number, number];
    if (cp < first) high = middle - 1;
    else if (cp > last) low = middle + 1;
    else return true;
  }
  return false;
}
const isPictograph = isPictographic;

/** True when `text` is one emoji a user may react with. */
export function isReactionEmoji(text: string): boolean {
  const cps = [...text].map((c) => c.codePointAt(0) as number);
  const [first, ...rest] = cps;
  if (first === undefined || cps.length > MAX_EMOJI_CODE_POINTS) return false;
  if (isRegionalIndicator(first)) return rest.length === 1 && isRegionalIndicator(rest[0] as number);
  if (isKeycapBase(first)) {
    const tail = rest[0] === VS16 ? rest.slice(1) : rest;
    return tail.length === 1 && tail[0] === KEYCAP;
  }
  if (!isPictograph(first)) return false;
  for (let at = 0; at < rest.length; at += 1) {
    const cp = rest[at] as number;
    if (cp === ZWJ) {
      const next = rest[at + 1];
      if (next === undefined || !isPictograph(next)) return false;
      at += 1; // the pictograph the joiner joins
    } else if (cp !== VS16 && !isSkinTone(cp) && !isTag(cp)) {
      return false;
    }
  }
  return true;
}
