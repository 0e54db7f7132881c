import { signWebhookPayload, WEBHOOK_SIGNATURE_HEADER } from '../../protocols/signing/index.js';
import { seededRandom } from '../common/index.js';
import { newId, type SandboxEvent } from './model.js';

/**
 * At-least-once webhook delivery: every event goes to every enabled endpoint subscribed to its type,
 * signed `Webhook-Signature: t=<unix>,v1=<hex>` with each active secret. Non-2xx answers and network errors
 * are retried with exponential backoff; knobs add duplicate deliveries and reordering (random delays).
 */
export interface WebhookEndpoint {
  id: string;
  /** A URL, or a function resolved at delivery time (the in-process gateway's address is known late). */
  url: string | (() => string | undefined);
  secrets: string[];
  /** Event types; empty or absent = all. */
  events?: string[];
  enabled: boolean;
}

export interface WebhookKnobs {
  /** Probability that an event is delivered twice. */
  duplicateProbability: number;
  /** Each delivery waits a random 0..reorderMaxDelayMs first, so later events may overtake earlier ones. */
  reorderMaxDelayMs: number;
  /** Delays before attempts 2, 3, …; its length + 1 is the number of attempts. */
  retryDelaysMs: number[];
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_KNOBS: WebhookKnobs = {
  duplicateProbability: 0,
  reorderMaxDelayMs: 0,
  retryDelaysMs: [250, 1000, 4000, 15_000, 60_000],
  timeoutMs: 5000,
};

export interface DeliveryRecord {
  eventId: string;
  endpointId: string;
  attempt: number;
  status: number | 'network_error';
  at: string;
}

export class WebhookDispatcher {
  readonly endpoints = new Map<string, WebhookEndpoint>();
  knobs: WebhookKnobs;
  readonly log: DeliveryRecord[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private random: () => number;
  private closed = false;
  private readonly initialKnobs: WebhookKnobs;

  constructor(
    knobs: Partial<WebhookKnobs> = {},
    private readonly wallSeconds: () => number = () => Math.floor(Date.now() / 1000),
    seed = 7,
  ) {
    this.knobs = { ...DEFAULT_WEBHOOK_KNOBS, ...knobs };
    this.initialKnobs = { ...this.knobs };
    this.random = seededRandom(seed);
  }

  register(ep: Omit<WebhookEndpoint, 'id' | 'enabled'> & { id?: string }): WebhookEndpoint {
    if (ep.secrets.length === 0) throw new RangeError('a webhook endpoint needs at least one secret');
    const endpoint: WebhookEndpoint = { ...ep, id: ep.id ?? newId('we'), enabled: true };
    this.endpoints.set(endpoint.id, endpoint);
    return endpoint;
  }

  dispatch(event: SandboxEvent): void {
    for (const ep of this.endpoints.values()) {
      if (!ep.enabled || (ep.events?.length && !ep.events.includes(event.type))) continue;
      const copies = this.random() < this.knobs.duplicateProbability ? 2 : 1;
      for (let i = 0; i < copies; i++) this.enqueue(event, ep, 1, this.jitter());
    }
  }

  /** Resolves when nothing is queued or in flight (tests wait on it instead of sleeping). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  pending(): number {
    return this.inFlight;
  }

  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.endpoints.clear();
    this.log.length = 0;
    this.inFlight = 0;
    this.knobs = { ...this.initialKnobs };
    this.settle();
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.inFlight = 0;
    this.settle();
  }

  private jitter(): number {
    return this.knobs.reorderMaxDelayMs > 0 ? Math.floor(this.random() * this.knobs.reorderMaxDelayMs) : 0;
  }

  private enqueue(event: SandboxEvent, ep: WebhookEndpoint, attempt: number, delayMs: number): void {
    if (this.closed) return;
    this.inFlight++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.deliver(event, ep, attempt).finally(() => {
        this.inFlight = Math.max(0, this.inFlight - 1);
        this.settle();
      });
    }, delayMs);
    t.unref();
    this.timers.add(t);
  }

  private async deliver(event: SandboxEvent, ep: WebhookEndpoint, attempt: number): Promise<void> {
    const url = typeof ep.url === 'function' ? ep.url() : ep.url;
    const body = JSON.stringify(event);
    let status: number | 'network_error' = 'network_error';
    if (url) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [WEBHOOK_SIGNATURE_HEADER]: signWebhookPayload(body, ep.secrets, this.wallSeconds()),
            'user-agent': 'CareBridge-PaymentsSandbox/1 (+webhooks)',
          },
          body,
          signal: AbortSignal.timeout(this.knobs.timeoutMs),
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      } catch {
        status = 'network_error';
      }
    }
    if (this.closed) return;
    this.log.push({ eventId: event.id, endpointId: ep.id, attempt, status, at: new Date().toISOString() });
    if (this.log.length > 5000) this.log.splice(0, this.log.length - 5000);
    const ok = typeof status === 'number' && status >= 200 && status < 300;
    const delay = this.knobs.retryDelaysMs[attempt - 1];
    if (!ok && delay !== undefined) this.enqueue(event, ep, attempt + 1, delay);
  }

  private settle(): void {
    if (this.inFlight !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
