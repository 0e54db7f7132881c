export { startControlServer } from './control.js';
export { PUSH_MAGIC, type PushRecord, SMS_MAGIC, type SmsRecord } from './providers.js';
export {
  ReferenceNotificationService,
  type ReferenceServiceOptions,
  type Report,
  type ReportStatus,
} from './service.js';
export { EMAIL_MAGIC, type MailboxEntry } from './smtp.js';
