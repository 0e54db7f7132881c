import { describe, expect, it } from 'vitest';
import { isSafeText, safeText, UNSAFE_TEXT_MESSAGE } from './text.js';

describe('safeText', () => {
  it('refuses NUL, unpaired surrogates and control characters with one message', () => {
    const s = safeText({ max: 100 });
    for (const bad of ['a\u0000b', '\ud800', 'x\udc00', 'line\nbreak', 'tab\t', 'bell\u0007', 'del\u007f']) {
      const r = s.safeParse(bad);
      expect(r.success, JSON.stringify(bad)).toBe(false);
      expect(r.error?.issues[0]?.message).toBe(UNSAFE_TEXT_MESSAGE);
    }
  });

  it('keeps tab, LF and CR in free text, and any well-formed Unicode', () => {
    const s = safeText({ max: 100, multiline: true });
    expect(s.parse('Dear patient,\r\n\tyour refill is ready 😀 — ü')).toContain('😀');
    expect(s.safeParse('a\u0000').success).toBe(false);
    expect(s.safeParse('a\u000b').success).toBe(false);
    expect(isSafeText('😀')).toBe(true);
  });

  it('bounds the length, unless the caller bounds it elsewhere', () => {
    expect(safeText({ min: 1, max: 3 }).safeParse('abcd').success).toBe(false);
    expect(safeText({ min: 1, max: 3 }).safeParse('').success).toBe(false);
    expect(safeText({ max: null, multiline: true }).safeParse('x'.repeat(100_000)).success).toBe(true);
  });
});
