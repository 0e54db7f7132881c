import { randomBytes } from 'node:crypto';

/**
 * In-process SMS and push providers with documented magic values (docs/integrations/notifications.md):
 *
 * SMS (Twilio-style test numbers)        | Push (device token prefix)
 * +15005550001 invalid number → failed   | unregistered… → failed (UNREGISTERED)
 * +15005550002 5xx on attempt 1, then ok | flaky…        → 503 on attempt 1, then delivered
 * +15005550009 5xx on every attempt      | unavailable…  → 503 on every attempt → dead_lettered
 * +15005550004 accepted, undelivered     | anything else → delivered
 * anything else → delivered              |
 */
export type ProviderOutcome =
  | { kind: 'delivered'; provider: string; providerMessageId: string }
  | { kind: 'undelivered'; provider: string; providerMessageId: string; reason: string }
  | { kind: 'permanent'; provider: string; reason: string }
  | { kind: 'transient'; provider: string; reason: string };

export interface SmsRecord {
  notificationId: string;
  to: string;
  text: string;
  providerMessageId: string;
  at: string;
}

export interface PushRecord {
  notificationId: string;
  deviceToken: string;
  title: string;
  body: string;
  data?: Record<string, string>;
  providerMessageId: string;
  at: string;
}

export const SMS_MAGIC = {
  invalidNumber: '+15005550001',
  failOnce: '+15005550002',
  undelivered: '+15005550004',
  alwaysFail: '+15005550009',
} as const;

export const PUSH_MAGIC = {
  unregistered: 'unregistered',
  failOnce: 'flaky',
  alwaysFail: 'unavailable',
} as const;

export class FakeSmsProvider {
  readonly log: SmsRecord[] = [];

  send(notificationId: string, msg: { to: string; text: string }, attempt: number): ProviderOutcome {
    const provider = 'sandbox-sms';
    if (msg.to === SMS_MAGIC.invalidNumber)
      return { kind: 'permanent', provider, reason: '21211 invalid "To" phone number' };
    if (msg.to === SMS_MAGIC.alwaysFail || (msg.to === SMS_MAGIC.failOnce && attempt === 1)) {
      return { kind: 'transient', provider, reason: '503 provider unavailable' };
    }
    const providerMessageId = `SM${randomBytes(16).toString('hex')}`;
    if (msg.to === SMS_MAGIC.undelivered)
      return {
        kind: 'undelivered',
        provider,
        providerMessageId,
        reason: '30003 unreachable destination handset',
      };
    this.log.push({
      notificationId,
      to: msg.to,
      text: msg.text,
      providerMessageId,
      at: new Date().toISOString(),
    });
    return { kind: 'delivered', provider, providerMessageId };
  }
}

export class FakePushProvider {
  readonly log: PushRecord[] = [];

  send(
    notificationId: string,
    msg: { deviceToken: string; title: string; body: string; data?: Record<string, string> },
    attempt: number,
  ): ProviderOutcome {
    const provider = 'sandbox-push';
    const t = msg.deviceToken;
    if (t.startsWith(PUSH_MAGIC.unregistered))
      return { kind: 'permanent', provider, reason: '404 UNREGISTERED: the token is no longer valid' };
    if (t.startsWith(PUSH_MAGIC.alwaysFail) || (t.startsWith(PUSH_MAGIC.failOnce) && attempt === 1)) {
      return { kind: 'transient', provider, reason: '503 UNAVAILABLE' };
    }
    const providerMessageId = `projects/sandbox/messages/${randomBytes(8).toString('hex')}`;
    this.log.push({ notificationId, ...msg, providerMessageId, at: new Date().toISOString() });
    return { kind: 'delivered', provider, providerMessageId };
  }
}
