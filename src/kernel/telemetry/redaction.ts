/**
 * Keys whose values never reach a log line: credentials, card data and PHI (names, dates of birth,
 * member ids, addresses, phone numbers, emails). Matched case-sensitively at any depth up to four levels,
 * plus the header names we forward. Add a key here rather than scrubbing at a call site.
 */
export const REDACTED_KEYS = [
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'X-Api-Key',
  'x-signature',
  'webhook-signature',
  'apiKey',
  'apiSecret',
  'secret',
  'clientSecret',
  'client_secret',
  'password',
  'newPassword',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'privateKey',
  'cardNumber',
  'cvc',
  'cvv',
  'exp_month',
  'exp_year',
  'firstName',
  'lastName',
  'first_name',
  'last_name',
  'fullName',
  'patientName',
  'cardholderName',
  'card',
  'dateOfBirth',
  'dob',
  'birthDate',
  'memberId',
  'member_id',
  'subscriberId',
  'ssn',
  'address',
  'address1',
  'address2',
  'street',
  'street1',
  'street2',
  'line1',
  'line2',
  'postalCode',
  'zip',
  'phone',
  'phoneNumber',
  'to',
  'email',
  'deviceToken',
  'body',
  'text',
  'html',
  'variables',
];

/**
 * Keys that carry a dependency's address (`url`, `target`, a socket error's `address`): the address stays visible
 * and only the credentials in it are masked (`amqp://guest:guest@host` → `amqp://***@host`), so an operator can see
 * where a sandbox or upstream lives. `address` is also a PHI key above: a value that is not a network address
 * (a postal address, an object) is still `[REDACTED]`.
 */
export const ADDRESS_KEYS = ['url', 'target', 'baseUrl', 'address'];

const CENSOR = '[REDACTED]';
/** `scheme://userinfo@`: everything up to the last `@` of the authority is credentials. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;
/** Query parameters that carry a credential (libpq's `password`, `sslpassword`; tokens and keys). */
const SECRET_PARAMS =
  /([?&](?:password|passwd|pwd|sslpassword|secret|token|access_token|api_key|apikey|auth)=)[^&#\s]*/gi;
/** A URL, an IPv4 or IPv6 literal, or `host:port`: never personal data. */
const NETWORK_ADDRESS =
  /^(?:[a-z][a-z0-9+.-]*:\/\/\S+|\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|\[?[0-9a-f]*:[0-9a-f:.]*\]?(?::\d{1,5})?|[a-z0-9-]+(?:\.[a-z0-9-]+)*:\d{1,5})$/i;

/**
 * Masks the credentials in every URL of `text` (userinfo, and query parameters such as `password=`), and nothing
 * else: `postgres://app:pw@db:5432/x?sslmode=require&password=pw` → `postgres://***@db:5432/x?sslmode=require&password=***`.
 */
export function maskCredentials(text: string): string {
  return text.replace(URL_USERINFO, '$1***@').replace(SECRET_PARAMS, '$1***');
}

/** pino's censor: a network address keeps everything but its credentials; anything else is `[REDACTED]`. */
export function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (typeof value === 'string' && ADDRESS_KEYS.includes(key)) {
    if (key !== 'address' || NETWORK_ADDRESS.test(value)) return maskCredentials(value);
  }
  return CENSOR;
}

const REDACTED = new Set([...REDACTED_KEYS, ...ADDRESS_KEYS]);
/** Keys are matched on the log object's first four levels (0 = its own keys), as the key list says. */
const DEEPEST_LEVEL = 3;

/**
 * `value` with every REDACTED_KEYS / ADDRESS_KEYS entry on levels `level`–3 replaced by `censor`, copying only the
 * objects it changes (the caller's object is never touched). An error under `err` at the top is left to the error
 * serializer, whose output goes through here in turn (logger.ts). Objects with `toJSON` are redacted as what they
 * serialize to.
 *
 * One walk over what is logged: pino's own path redaction with these keys as wildcard paths (288 of them) ran every
 * top-level value through all of them, ~130 µs per log line — more than the rest of a gateway read (issue #14).
 */
export function redactLogObject<T>(value: T, level = 0, path: readonly string[] = []): T {
  if (value === null || typeof value !== 'object') return value;
  let source: object = value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    const serialized = toJSON.call(value);
    if (serialized === null || typeof serialized !== 'object') return value;
    source = serialized;
  }
  const isArray = Array.isArray(source);
  let out: Record<string, unknown> | unknown[] | undefined;
  for (const key of Object.keys(source)) {
    const v = (source as Record<string, unknown>)[key];
    let next = v;
    if (!isArray && REDACTED.has(key)) next = censor(v, [...path, key]);
    else if (
      level < DEEPEST_LEVEL &&
      v !== null &&
      typeof v === 'object' &&
      !(level === 0 && key === 'err' && v instanceof Error)
    )
      next = redactLogObject(v, level + 1, [...path, key]);
    if (next !== v) {
      out ??= isArray ? [...(source as unknown[])] : { ...source };
      (out as Record<string, unknown>)[key] = next;
    }
  }
  return (out ?? (source === value ? value : source)) as T;
}

/**
 * pino `redact.paths` for REDACTED_KEYS and ADDRESS_KEYS at depths 0–3 (pino's wildcard matches one level). The
 * logger no longer uses them (`redactLogObject` does the same in one walk); kept for callers that configure pino
 * themselves.
 */
export function redactPaths(
  keys: readonly string[] = [...new Set([...REDACTED_KEYS, ...ADDRESS_KEYS])],
): string[] {
  const paths: string[] = [];
  for (const k of keys) {
    const seg = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
    const join = (prefix: string) =>
      seg.startsWith('[') ? `${prefix}${seg}` : prefix ? `${prefix}.${seg}` : seg;
    paths.push(join(''), join('*'), join('*.*'), join('*.*.*'));
  }
  return paths;
}
