import { z } from 'zod';

/**
 * The one rule for every string the API accepts. Postgres refuses U+0000 in text and jsonb ("invalid byte
 * sequence for encoding UTF8: 0x00") and jsonb refuses an unpaired surrogate ("unsupported Unicode escape
 * sequence"): either one reaching a query is a 500, so it is refused at the edge with a 400 naming the field.
 * Other C0 controls and DEL have no place in single-line values (ids, names, subjects: header injection, log
 * forging); free text keeps tab, LF and CR. A field whose pattern admits only printable ASCII (ids, tokens,
 * codes) is already safe by its pattern.
 */
export const UNSAFE_TEXT_MESSAGE = 'must not contain NUL, control or unpaired surrogate characters';

/** With the `u` flag a well-formed pair is one code point, so only an unpaired surrogate is `\p{Cs}`. */
const UNPAIRED_SURROGATE = /\p{Cs}/u;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const DEL = 0x7f;

/** True when `s` holds no NUL, no unpaired surrogate, and no control character (but tab, LF, CR when `multiline`). */
export function isSafeText(s: string, opts: { multiline?: boolean } = {}): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === DEL) return false;
    if (c < 0x20 && !(opts.multiline && (c === TAB || c === LF || c === CR))) return false;
  }
  return !UNPAIRED_SURROGATE.test(s);
}

export interface SafeTextOptions {
  /** Shortest length accepted (UTF-16 code units). Default 0. */
  min?: number;
  /**
   * Longest length accepted (UTF-16 code units). `null` only for free text bounded elsewhere (e.g. an email
   * body's byte limit, which answers 413); identifiers always carry a bound.
   */
  max: number | null;
  /** Free text: tab, LF and CR are allowed. Default false (one line, no control characters). */
  multiline?: boolean;
}

/**
 * A zod string that refuses NUL, unpaired surrogates and control characters (see `isSafeText`), with
 * UNSAFE_TEXT_MESSAGE naming the rule. Marked `x-safe-text` in the OpenAPI document, where a test checks
 * that every request string of /v1 has this mark, a pattern or an enum.
 */
export function safeText(opts: SafeTextOptions): z.ZodString {
  const multiline = opts.multiline ?? false;
  let s = z.string().refine((v) => isSafeText(v, { multiline }), { error: UNSAFE_TEXT_MESSAGE });
  if (opts.min !== undefined) s = s.min(opts.min, { error: `expected at least ${opts.min} characters` });
  if (opts.max !== null) s = s.max(opts.max, { error: `expected at most ${opts.max} characters` });
  return s.meta({ 'x-safe-text': multiline ? 'multiline' : 'single-line' });
}
