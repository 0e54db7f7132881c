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

/** pino `redact.paths` for REDACTED_KEYS and ADDRESS_KEYS at depths 0–3 (pino's wildcard matches one level). */
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
