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

/** pino `redact.paths` for REDACTED_KEYS at depths 0–3 (pino's wildcard matches exactly one level). */
export function redactPaths(keys: readonly string[] = REDACTED_KEYS): string[] {
  const paths: string[] = [];
  for (const k of keys) {
    const seg = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
    const join = (prefix: string) =>
      seg.startsWith('[') ? `${prefix}${seg}` : prefix ? `${prefix}.${seg}` : seg;
    paths.push(join(''), join('*'), join('*.*'), join('*.*.*'));
  }
  return paths;
}
