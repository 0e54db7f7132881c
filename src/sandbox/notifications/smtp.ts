import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { ProviderOutcome } from './providers.js';

/**
 * An in-process SMTP sink (smtp-server + mailparser) and the nodemailer sender that delivers to it.
 * Magic recipient domains: `bounce.example.com` (accepted with 250, then a hard bounce), `reject.example.com`
 * (550 at RCPT: failed), `tempfail.example.com` (451 every time: retried, then dead-lettered),
 * `flaky.example.com` (451 on the first delivery to each address). Everything else lands in the mailbox.
 */
export const EMAIL_MAGIC = {
  bounce: 'bounce.example.com',
  reject: 'reject.example.com',
  tempfail: 'tempfail.example.com',
  flaky: 'flaky.example.com',
} as const;

export interface MailboxEntry {
  notificationId: string;
  to: string;
  from: string;
  subject: string;
  text?: string;
  html?: string;
  messageId: string;
  receivedAt: string;
}

export interface SavedSink {
  mailbox: MailboxEntry[];
  bounced: MailboxEntry[];
  flakySeen: string[];
}

const domainOf = (address: string) => address.split('@')[1]?.toLowerCase() ?? '';

function smtpError(message: string, code: number): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

export class SmtpSink {
  readonly mailbox: MailboxEntry[] = [];
  readonly bounced: MailboxEntry[] = [];
  private server: SMTPServer;
  /** `flaky.example.com` fails the first delivery to each address. */
  private readonly flakySeen = new Set<string>();
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      size: 2 * 1024 * 1024,
      onRcptTo: (address: SMTPServerAddress, _session, cb) => {
        const domain = domainOf(address.address);
        if (domain === EMAIL_MAGIC.reject) return cb(smtpError('5.1.1 mailbox unavailable', 550));
        const firstTry = domain === EMAIL_MAGIC.flaky && !this.flakySeen.has(address.address);
        if (domain === EMAIL_MAGIC.flaky) this.flakySeen.add(address.address);
        if (domain === EMAIL_MAGIC.tempfail || firstTry) return cb(smtpError('4.3.0 try again later', 451));
        cb();
      },
      onData: (stream, session, cb) => {
        simpleParser(stream)
          .then((mail) => {
            const to = session.envelope.rcptTo[0]?.address ?? '';
            const entry: MailboxEntry = {
              notificationId: String(mail.headers.get('x-notification-id') ?? ''),
              to,
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: mail.subject ?? '',
              ...(mail.text ? { text: mail.text } : {}),
              ...(typeof mail.html === 'string' ? { html: mail.html } : {}),
              messageId: mail.messageId ?? '',
              receivedAt: new Date().toISOString(),
            };
            (domainOf(to) === EMAIL_MAGIC.bounce ? this.bounced : this.mailbox).push(entry);
            cb();
          })
          .catch((err: Error) => cb(err));
      },
    });
    this.server.on('error', () => {});
  }

  reset(): void {
    this.mailbox.length = 0;
    this.bounced.length = 0;
    this.flakySeen.clear();
  }

  /** Mailbox, bounced mail and the `flaky.example.com` addresses already failed once (saved across restarts). */
  snapshot(): SavedSink {
    return { mailbox: [...this.mailbox], bounced: [...this.bounced], flakySeen: [...this.flakySeen] };
  }

  restore(saved: SavedSink): void {
    this.reset();
    for (const m of saved.mailbox) this.mailbox.push(m);
    for (const m of saved.bounced) this.bounced.push(m);
    for (const a of saved.flakySeen) this.flakySeen.add(a);
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Sends over SMTP with nodemailer (pooled); maps SMTP replies to provider outcomes. */
export class SmtpSender {
  private readonly transport;

  constructor(
    port: number,
    private readonly from = 'CareBridge <no-reply@carebridge.example>',
  ) {
    this.transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 5,
      maxMessages: Number.POSITIVE_INFINITY,
    });
  }

  async send(
    notificationId: string,
    msg: { to: string; subject: string; text?: string; html?: string },
  ): Promise<ProviderOutcome> {
    const provider = 'sandbox-smtp';
    try {
      const info = await this.transport.sendMail({
        from: this.from,
        to: msg.to,
        subject: msg.subject,
        ...(msg.text !== undefined ? { text: msg.text } : {}),
        ...(msg.html !== undefined ? { html: msg.html } : {}),
        headers: { 'X-Notification-Id': notificationId },
        messageId: `<${notificationId}.${randomBytes(4).toString('hex')}@carebridge.example>`,
      });
      if (domainOf(msg.to) === EMAIL_MAGIC.bounce) {
        return {
          kind: 'undelivered',
          provider,
          providerMessageId: info.messageId,
          reason: '550 5.1.1 user unknown (asynchronous bounce)',
        };
      }
      return { kind: 'delivered', provider, providerMessageId: info.messageId };
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      const reason = `${code ?? 'connection'} ${(err as Error).message}`.slice(0, 300);
      return code !== undefined && code >= 500
        ? { kind: 'permanent', provider, reason }
        : { kind: 'transient', provider, reason };
    }
  }

  close(): void {
    this.transport.close();
  }
}
