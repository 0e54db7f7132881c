import { errorFactory } from '../../kernel/errors/index.js';

const INTEGRATION = 'notifications';

/** Error codes of the notifications integration (documented in docs/errors.md, "## Notifications"). */
export const notificationErrors = {
  invalidMessage: errorFactory('NOTIFICATIONS_INVALID_MESSAGE', 400, false, INTEGRATION),
  templateUnknown: errorFactory('NOTIFICATIONS_TEMPLATE_UNKNOWN', 400, false, INTEGRATION),
  templateVariableMissing: errorFactory('NOTIFICATIONS_TEMPLATE_VARIABLE_MISSING', 400, false, INTEGRATION),
  messageTooLarge: errorFactory('NOTIFICATIONS_MESSAGE_TOO_LARGE', 413, false, INTEGRATION),
  notFound: errorFactory('NOTIFICATIONS_NOT_FOUND', 404, false, INTEGRATION),
  brokerUnavailable: errorFactory('NOTIFICATIONS_BROKER_UNAVAILABLE', 503, true, INTEGRATION),
  publishNacked: errorFactory('NOTIFICATIONS_PUBLISH_NACKED', 503, true, INTEGRATION),
  confirmTimeout: errorFactory('NOTIFICATIONS_CONFIRM_TIMEOUT', 504, true, INTEGRATION),
  unroutable: errorFactory('NOTIFICATIONS_UNROUTABLE', 500, true, INTEGRATION),
} as const;
