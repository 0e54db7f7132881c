import type { Authenticator, RouteModule, Services } from '../../gateway/index.js';
import type { JobHandler, OutboxTransport } from '../../kernel/store/index.js';
import type { Config } from '../config.js';

/** What a component (an integration with its sandbox) gets when it starts: the services, and a relay poke. */
export interface RuntimeContext extends Services {
  /** The whole configuration: each component reads its own area's settings. */
  config: Config;
  /** Pokes the outbox relay after an enqueue so messages leave at once instead of at the next poll. */
  wakeOutbox: () => void;
}

/** An in-process simulator a component started, and where it answers. */
export interface SandboxAddress {
  name: string;
  url: string;
}

export interface ComponentHandle {
  routes?: RouteModule[];
  authenticator?: Authenticator;
  /** Transports for outbox destinations (`rabbitmq:`, `kafka:`, …); rows for a missing one wait. */
  outboxTransports?: Array<{ prefix: string; transport: OutboxTransport }>;
  /** Handlers for kinds of delayed work in the `jobs` table (see kernel/store/jobs.ts). */
  jobHandlers?: Record<string, JobHandler>;
  /** The simulators it started (target `sandbox`), for the start-up summary. */
  sandboxes?: SandboxAddress[];
  /** Stops background work and closes connections; called in reverse start order. */
  stop(): Promise<void>;
}

/** One integration (and, when its target is `sandbox`, its in-process simulator). */
export interface Component {
  name: string;
  start(ctx: RuntimeContext): Promise<ComponentHandle>;
}
