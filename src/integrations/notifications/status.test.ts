import { describe, expect, it } from 'vitest';
import { nextStatus } from './status.js';

describe('nextStatus', () => {
  it('moves forward and never backwards', () => {
    expect(nextStatus('queued', 'sent')).toBe('sent');
    expect(nextStatus('delivered', 'sent')).toBe('delivered');
    expect(nextStatus('accepted', 'delivered')).toBe('delivered');
  });
  it('keeps terminal statuses, except that a delivered email may bounce', () => {
    expect(nextStatus('failed', 'delivered')).toBe('failed');
    expect(nextStatus('dead_lettered', 'sent')).toBe('dead_lettered');
    expect(nextStatus('delivered', 'bounced')).toBe('bounced');
  });
  it('treats retrying as proof of queueing without changing a later status', () => {
    expect(nextStatus('accepted', 'retrying')).toBe('queued');
    expect(nextStatus('sent', 'retrying')).toBe('sent');
  });
});
