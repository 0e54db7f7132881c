import { z } from 'zod';
import type { FakePushProvider, FakeSmsProvider, ProviderOutcome } from './providers.js';
import type { SmtpSender } from './smtp.js';
import type { ServiceChannel } from './topology.js';

/** The service's own reading of a message (schema version 1); anything else is dead-lettered at once. */
const messageSchema = z.object({
  schemaVersion: z.literal(1),
  id: z.string().min(1),
  channel: z.enum(['email', 'sms', 'push']),
  content: z.record(z.string(), z.unknown()),
});
const emailContent = z.object({
  to: z.string(),
  subject: z.string(),
  text: z.string().optional(),
  html: z.string().optional(),
});
const smsContent = z.object({ to: z.string(), text: z.string() });
const pushContent = z.object({
  deviceToken: z.string(),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.string()).optional(),
});

export type DispatchOutcome = ProviderOutcome | { kind: 'invalid'; provider: string; reason: string };

/**
 * Reads one message (its own schema, version 1) and hands it to the channel's provider. An unreadable
 * message, a wrong schema version or a message on the wrong queue is `invalid` (dead-lettered, no retries).
 */
export async function dispatch(
  providers: { smtp: SmtpSender; sms: FakeSmsProvider; push: FakePushProvider },
  channel: ServiceChannel,
  id: string,
  body: Buffer,
  attempt: number,
): Promise<DispatchOutcome> {
  let parsed: z.infer<typeof messageSchema>;
  try {
    parsed = messageSchema.parse(JSON.parse(body.toString('utf8')));
    if (parsed.channel !== channel) throw new Error(`a ${parsed.channel} message on the ${channel} queue`);
  } catch (err) {
    return {
      kind: 'invalid',
      provider: 'sandbox',
      reason: `invalid message: ${(err as Error).message.slice(0, 200)}`,
    };
  }
  const c = parsed.content;
  if (channel === 'email') {
    const content = emailContent.safeParse(c);
    return content.success ? providers.smtp.send(id, content.data) : invalidContent();
  }
  if (channel === 'sms') {
    const content = smsContent.safeParse(c);
    return content.success ? providers.sms.send(id, content.data, attempt) : invalidContent();
  }
  const content = pushContent.safeParse(c);
  return content.success ? providers.push.send(id, content.data, attempt) : invalidContent();
}

function invalidContent(): DispatchOutcome {
  return { kind: 'invalid', provider: 'sandbox', reason: 'invalid message content' };
}
