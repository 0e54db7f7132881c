import { socketFailureReason } from '../../kernel/telemetry/index.js';

export interface BrokerAddress {
  /** amqp:// or amqps:// URL (its path is the vhost). */
  url: string;
  /** The user that logs in when it overrides the URL's (RABBITMQ_USERNAME). */
  username?: string;
}

const SETTINGS_HINT = '(check RABBITMQ_URL / RABBITMQ_USERNAME / RABBITMQ_PASSWORD)';

/**
 * Why RabbitMQ refused or dropped a connection, in plain words. amqplib reports a refused login as "Handshake
 * terminated by server: 403 (ACCESS-REFUSED) …" and an unknown (or forbidden) vhost only as "Expected
 * ConnectionOpenOk; got <ConnectionClose channel:0>", which tells an operator nothing; RabbitMQ closes both the
 * same way for a missing vhost and for a user without permissions on it, so that reason names both.
 */
export function describeConnectFailure(err: unknown, broker: BrokerAddress): string {
  const message = err instanceof Error ? err.message : String(err);
  const u = new URL(broker.url);
  const user = broker.username ?? (decodeURIComponent(u.username) || 'guest');
  const vhost = u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/';
  const where = `${u.hostname}:${u.port || (u.protocol === 'amqps:' ? '5671' : '5672')}`;
  if (/ACCESS[-_]REFUSED/.test(message) && /login was refused/i.test(message))
    return `access refused: login refused for user '${user}' ${SETTINGS_HINT}`;
  if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(message) || /NOT[-_]ALLOWED/.test(message))
    return `access refused: vhost '${vhost}' does not exist or user '${user}' has no permissions on it (check the vhost, the path of RABBITMQ_URL)`;
  if (/ACCESS[-_]REFUSED/.test(message)) return `access refused: ${brokerText(message)} ${SETTINGS_HINT}`;
  const socket = socketFailureReason(err, where);
  if (socket) return `${socket} (check RABBITMQ_URL)`;
  if (/Socket closed abruptly during opening handshake/.test(message))
    return `${where} closed the connection during the AMQP handshake (not an AMQP port? amqp:// to a TLS-only port?)`;
  return brokerText(message);
}

/** The broker's own words when amqplib quotes them (`… with message "NOT_FOUND - …"`), else the message. */
function brokerText(message: string): string {
  const quoted = /with message "([^"]+)"/.exec(message);
  return (quoted?.[1] ?? message).slice(0, 200);
}
