import { errorFactory } from '../../kernel/errors/index.js';

/** Error codes of the notifications integration (documented in docs/errors.md, "## Notifications"). */
export const notificationErrors = {
  invalidMessage: errorFactory('NOTIFICATIONS_INVALID_MESSAGE', 400, false),
  templateUnknown: errorFactory('NOTIFICATIONS_TEMPLATE_UNKNOWN', 400, false),
  templateVariableMissing: errorFactory('NOTIFICATIONS_TEMPLATE_VARIABLE_MISSING', 400, false),
  messageTooLarge: errorFactory('NOTIFICATIONS_MESSAGE_TOO_LARGE', 413, false),
  notFound: errorFactory('NOTIFICATIONS_NOT_FOUND', 404, false),
  brokerUnavailable: errorFactory('NOTIFICATIONS_BROKER_UNAVAILABLE', 503, true),
  publishNacked: errorFactory('NOTIFICATIONS_PUBLISH_NACKED', 503, true),
  confirmTimeout: errorFactory('NOTIFICATIONS_CONFIRM_TIMEOUT', 504, true),
  unroutable: errorFactory('NOTIFICATIONS_UNROUTABLE', 500, true),
} as const;
