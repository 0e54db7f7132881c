import type { Component } from './component.js';
import { notificationsComponent } from './notifications.js';
import { paymentsComponent } from './payments.js';
import { usersComponent } from './users.js';

/**
 * The integrations `carebridge start` runs, in start order. Identity comes first so the gateway has an
 * authenticator; each component starts its sandbox when its target setting is `sandbox`.
 */
export const COMPONENTS: Component[] = [usersComponent, paymentsComponent, notificationsComponent];
