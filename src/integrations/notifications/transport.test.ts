import { describe, expect, it } from 'vitest';
import { connectionUrl } from './connection.js';
import { supportsQuorumQueues } from './topology.js';
import { parseDestination, publishProperties } from './transport.js';

describe('RabbitMQ addressing', () => {
  it('maps rabbitmq:<queue> to the default exchange and rabbitmq:<exchange>/<key> to that exchange', () => {
    expect(parseDestination('rabbitmq:email_notifications')).toEqual({
      exchange: '',
      routingKey: 'email_notifications',
    });
    expect(parseDestination('rabbitmq:notifications.work/sms_notifications')).toEqual({
      exchange: 'notifications.work',
      routingKey: 'sms_notifications',
    });
  });

  it('publishes persistent, mandatory messages whose messageId is the outbox id and lifts correlation headers', () => {
    const props = publishProperties({
      id: 'ntf_1',
      destination: 'rabbitmq:email_notifications',
      key: null,
      payload: {},
      headers: { 'x-correlation-id': 'pay_1', 'x-message-type': 'notification.email.v1', tenant: 't1' },
      attempts: 2,
      createdAt: new Date('2026-01-01T00:00:00Z'),
    });
    expect(props).toMatchObject({
      persistent: true,
      mandatory: true,
      messageId: 'ntf_1',
      correlationId: 'pay_1',
      type: 'notification.email.v1',
      contentType: 'application/json',
      timestamp: 1767225600,
      headers: { tenant: 't1', 'x-outbox-attempt': 2 },
    });
    expect(props.headers).not.toHaveProperty('x-correlation-id');
  });

  it('takes credentials from secrets over the URL and adds a heartbeat unless one is set', () => {
    expect(
      connectionUrl({ url: 'amqps://svc@mq.internal:5671/prod', username: 'notif', password: 'p@ss/w:rd' }),
    ).toBe('amqps://notif:p%40ss%2Fw%3Ard@mq.internal:5671/prod?heartbeat=15');
    expect(connectionUrl({ url: 'amqp://guest:guest@127.0.0.1:5672?heartbeat=5' })).toBe(
      'amqp://guest:guest@127.0.0.1:5672?heartbeat=5',
    );
    expect(() => connectionUrl({ url: 'http://127.0.0.1:5672' })).toThrow(RangeError);
  });
});

describe('supportsQuorumQueues', () => {
  it('declares quorum queues on RabbitMQ 3.10 and later only', () => {
    expect(supportsQuorumQueues('3.10.8')).toBe(true);
    expect(supportsQuorumQueues('4.1.0')).toBe(true);
    expect(supportsQuorumQueues('3.9.29')).toBe(false);
  });
});
