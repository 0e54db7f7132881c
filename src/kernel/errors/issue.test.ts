import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { firstIssue } from './issue.js';

describe('firstIssue', () => {
  it('names the first offending field by its dotted path', () => {
    const r = z.object({ items: z.array(z.object({ to: z.email() })) }).safeParse({ items: [{ to: 'x' }] });
    expect(r.success).toBe(false);
    const issue = firstIssue(r.error!, 'body');
    expect(issue.field).toBe('items.0.to');
    expect(issue.summary).toBe(`items.0.to: ${issue.message}`);
  });

  it('names the root when the value itself is wrong', () => {
    const r = z.number().min(1).safeParse(0);
    expect(firstIssue(r.error!, 'options')).toMatchObject({ field: 'options', code: 'too_small' });
  });
});
