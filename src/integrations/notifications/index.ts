export {
  connectionUrl,
  RabbitConnection,
  type RabbitConnectionOptions,
  type RabbitTlsOptions,
} from './connection.js';
export { notificationErrors } from './errors.js';
export {
  type ChannelInput,
  NotificationIntegration,
  type NotificationIntegrationOptions,
  type SendOptions,
} from './integration.js';
export {
  buildContent as validateNotification,
  type EnqueueOptions,
  type EnqueueResult,
  enqueueNotification,
  getNotificationStatus,
  getNotificationStatuses,
  markPublished,
} from './ledger.js';
export { notificationsMigrations } from './migrations.js';
export {
  CHANNELS,
  type Channel,
  deviceTokenSchema,
  type EmailInput,
  e164Schema,
  emailAddressSchema,
  emailInputSchema,
  LIMITS,
  MESSAGE_SCHEMA_VERSION,
  type NotificationInput,
  type NotificationMessage,
  type NotificationStatus,
  type NotificationStatusWord,
  notificationIdSchema,
  notificationStatusSchema,
  type PushInput,
  pushInputSchema,
  type SmsInput,
  type StatusReport,
  smsInputSchema,
  statusReportSchema,
} from './schemas.js';
export { notificationsFlags, notificationsSettings } from './settings.js';
export { StatusConsumer, type StatusConsumerOptions } from './status-consumer.js';
export { EMAIL_TEMPLATES } from './templates.js';
export {
  declareTopology,
  dlqName,
  NOTIFICATION_DESTINATIONS,
  QUEUES,
  retryQueueName,
  STATUS_QUEUE,
  supportsQuorumQueues,
  type TopologyOptions,
} from './topology.js';
export { RabbitOutboxTransport, type RabbitOutboxTransportOptions } from './transport.js';
