import { errors } from '../../kernel/errors/index.js';
import type { KeyedLimiter } from '../../kernel/resilience/index.js';
import type { FastifyReply, FastifyRequest } from '../types.js';

/**
 * Per-principal limit on /v1: called by access control right after authentication, so the key is the
 * authenticated subject (not an IP that many callers may share). The limiter comes from `deps.limiters`: shared
 * by every instance through Redis when REDIS_URL is set, per instance otherwise. Answers 429 RATE_LIMITED with
 * Retry-After.
 */
export async function enforcePrincipalRateLimit(
  limiter: KeyedLimiter,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const subject = request.principal?.subject;
  if (!subject) return;
  const r = await limiter.take(subject);
  if (r.ok) {
    reply.header('RateLimit-Remaining', String(r.remaining));
    return;
  }
  throw errors.rateLimited('Too many requests for this caller; slow down.', {
    retryAfterSeconds: r.retryAfterSeconds,
  });
}
