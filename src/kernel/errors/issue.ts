import type { z } from 'zod';

/** One validation problem, as callers see it: the field (a dotted path) and what is wrong with it. */
export interface Issue {
  field: string;
  message: string;
  /** zod's issue code (`too_small`, `invalid_type`, …), for callers that pick an error class by kind. */
  code: string;
  /** `field: message`, the one way a validation problem is written in an error message. */
  summary: string;
}

/** The first problem zod found; `root` names the value itself when the problem has no path (`body`, `options`). */
export function firstIssue(error: z.ZodError, root: string): Issue {
  const issue = error.issues[0];
  const field = issue?.path.join('.') || root;
  const message = issue?.message ?? 'invalid value';
  return { field, message, code: issue?.code ?? 'custom', summary: `${field}: ${message}` };
}
