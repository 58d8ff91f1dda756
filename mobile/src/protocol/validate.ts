/**
 * A tiny runtime validator: each `Check<T>` turns unknown JSON into a typed value or throws a
 * `ValidationError` naming the field. Unknown object keys are ignored (ArTP §3: "unknown
 * fields MUST be ignored") and dropped from the result.
 */

export class ValidationError extends Error {
  override name = 'ValidationError';
}

export type Check<T> = (value: unknown, path: string) => T;

const fail = (path: string, expected: string): never => {
  throw new ValidationError(`${path}: expected ${expected}`);
};

export interface StringRules {
  readonly pattern?: RegExp;
  readonly minLength?: number;
  readonly maxLength?: number;
}

export function str(rules: StringRules = {}): Check<string> {
  return (value, path) => {
    if (typeof value !== 'string') return fail(path, 'a string');
    const length = [...value].length; // code points, as the contract counts them
    if (rules.minLength !== undefined && length < rules.minLength) fail(path, `at least ${rules.minLength} characters`);
    if (rules.maxLength !== undefined && length > rules.maxLength) fail(path, `at most ${rules.maxLength} characters`);
    if (rules.pattern && !rules.pattern.test(value)) fail(path, `a string matching ${rules.pattern}`);
    return value;
  };
}

export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return fail(path, `an integer in ${min}..${max}`);
    }
    return value;
  };
}

export const num: Check<number> = (value, path) =>
  typeof value === 'number' && Number.isFinite(value) ? value : fail(path, 'a number');

export const bool: Check<boolean> = (value, path) =>
  typeof value === 'boolean' ? value : fail(path, 'a boolean');

export function literal<T extends string>(...allowed: T[]): Check<T> {
  return (value, path) =>
    allowed.includes(value as T) ? (value as T) : fail(path, `one of ${allowed.join(', ')}`);
}

export function list<T>(item: Check<T>): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) return fail(path, 'a list');
    return value.map((element, index) => item(element, `${path}[${index}]`));
  };
}

/** Marks a field optional: absent (or JSON null) becomes `undefined`. */
export interface Optional<T> {
  readonly optional: true;
  readonly check: Check<T>;
}

export function optional<T>(check: Check<T>): Optional<T> {
  return { optional: true, check };
}

type Field = Check<unknown> | Optional<unknown>;
type Shape = Record<string, Field>;
type Output<S extends Shape> = {
  [K in keyof S as S[K] extends Optional<unknown> ? never : K]: S[K] extends Check<infer T> ? T : never;
} & {
  [K in keyof S as S[K] extends Optional<unknown> ? K : never]?: S[K] extends Optional<infer T> ? T : never;
};

export function object<S extends Shape>(shape: S): Check<Output<S>> {
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(path, 'an object');
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(shape)) {
      const raw = source[key];
      if ('optional' in field) {
        if (raw !== undefined && raw !== null) out[key] = field.check(raw, `${path}.${key}`);
      } else {
        out[key] = field(raw, `${path}.${key}`);
      }
    }
    return out as Output<S>;
  };
}
