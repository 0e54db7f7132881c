/**
 * Why a connection to `where` (`host:port`) failed, in words an operator acts on, for the socket, DNS and TLS errors
 * every client library passes through from Node; undefined for anything else (the caller knows its protocol's).
 * The code is looked for on the error and down its `cause` chain, and in the text for libraries that only keep
 * the message (grpc-js: "No connection established. Last error: connect ECONNREFUSED …").
 */
export function socketFailureReason(err: unknown, where: string): string | undefined {
  const code = codeOf(err);
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where} (nothing listens there)`;
    case 'ENOTFOUND':
      return `host not found: ${where} (DNS lookup failed)`;
    case 'EAI_AGAIN':
      return `DNS lookup of ${where} failed (temporary; is DNS reachable?)`;
    case 'ETIMEDOUT':
    case 'ECONNABORTED':
      return `no answer from ${where} (connection timed out)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return `${where} is unreachable (no route to host)`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${where} closed the connection`;
    default:
      if (code && TLS.test(code)) return `TLS handshake with ${where} failed (${code})`;
      return undefined;
  }
}

const CODES =
  /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNABORTED|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN|ECONNRESET|EPIPE)\b/;
const TLS =
  /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(VERIFY|GET)_|ERR_OSSL)/;

function codeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (CODES.test(code) || TLS.test(code))) return code;
    if (typeof message === 'string') {
      const m = CODES.exec(message);
      if (m) return m[1];
    }
    // AggregateError (a host with IPv4 and IPv6 addresses, both refused) keeps the codes in `errors`.
    const inner = (e as { errors?: unknown[] }).errors?.[0];
    e = inner ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}
