import type { Redis } from 'ioredis';

/**
 * Takes one token if available, atomically, on the Redis server's clock (TIME) so instances with skewed clocks
 * agree. Returns {0, tokens left} when a token was taken, otherwise {milliseconds until one will be available,
 * 0} (nothing taken). KEYS[1] = bucket hash; ARGV = rate per second, burst.
 */
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000); ts = now end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 60000)
return {wait, math.floor(tokens)}
`;

/** Puts one token back, never above the burst; a bucket that expired meanwhile is full already. */
const GIVE_BACK = `
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if tokens == nil then return 0 end
redis.call('HSET', KEYS[1], 'tokens', tostring(math.min(tonumber(ARGV[1]), tokens + 1)))
return 1
`;

interface BucketCommands {
  carebridgeTakeToken(key: string, ratePerSecond: string, burst: string): Promise<[number, number]>;
  carebridgeGiveTokenBack(key: string, burst: string): Promise<number>;
}

/** The scripts as commands of `redis` (defined once per client; ioredis sends EVALSHA, EVAL after a NOSCRIPT). */
function commands(redis: Redis): BucketCommands {
  const r = redis as Redis & Partial<BucketCommands>;
  if (!r.carebridgeTakeToken) {
    redis.defineCommand('carebridgeTakeToken', { numberOfKeys: 1, lua: TAKE });
    redis.defineCommand('carebridgeGiveTokenBack', { numberOfKeys: 1, lua: GIVE_BACK });
  }
  return r as Redis & BucketCommands;
}

/** The Redis key of a bucket: names are ours (`payments:pk_live_…`, `principal:<sha256>`), never a secret. */
export const bucketKey = (name: string) => `carebridge:ratelimit:${name}`;

/** Takes a token from the shared bucket `key`: `waitMs` 0 means taken (`remaining` left), else try after it. */
export async function takeToken(
  redis: Redis,
  key: string,
  ratePerSecond: number,
  burst: number,
): Promise<{ waitMs: number; remaining: number }> {
  const [waitMs, remaining] = await commands(redis).carebridgeTakeToken(
    key,
    String(ratePerSecond),
    String(burst),
  );
  return { waitMs: Number(waitMs), remaining: Number(remaining) };
}

export async function giveTokenBack(redis: Redis, key: string, burst: number): Promise<void> {
  await commands(redis).carebridgeGiveTokenBack(key, String(burst));
}
