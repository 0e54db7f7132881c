import { socketFailureReason } from '../telemetry/index.js';

const HINT = '(check DATABASE_URL)';

/**
 * Why Postgres could not be used, in plain words with the setting to check. The SQLSTATEs are those a wrong
 * DATABASE_URL or a server in trouble answers at connect time (PostgreSQL, Appendix A "Error Codes").
 */
export function describePgFailure(err: unknown, connectionString: string): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  let where = 'the database server';
  let user = '';
  try {
    const u = new URL(connectionString);
    where = `${u.hostname || 'localhost'}:${u.port || '5432'}`;
    user = decodeURIComponent(u.username);
  } catch {
    // not a URL (a libpq keyword string): the server's message names what it refused
  }
  switch (e?.code) {
    case '28P01':
      return `login refused: password authentication failed${user ? ` for user '${user}'` : ''} ${HINT}`;
    case '28000':
      return `login refused: ${message} ${HINT}`;
    case '3D000':
      return `${message} (check the database name in DATABASE_URL)`;
    case '42501':
      return `permission denied: ${message} (the DATABASE_URL user lacks a privilege)`;
    case '53300':
      return `too many connections: ${message} (lower CAREBRIDGE_DATABASE_POOL_SIZE or raise max_connections)`;
    case '57P03':
      return `the server is not accepting connections yet: ${message}`;
    case '57P01':
    case '57P02':
      return `the server shut the connection down: ${message}`;
  }
  const socket = socketFailureReason(err, where);
  if (socket) return `${socket} ${HINT}`;
  if (/timeout exceeded when trying to connect/i.test(message))
    return `no answer from ${where} within the connect timeout ${HINT}`;
  if (/Connection terminated/i.test(message)) return `${where} closed the connection (${message})`;
  return message.slice(0, 200);
}
