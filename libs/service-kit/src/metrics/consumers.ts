import type { EventLog } from '@conclave/event-log';
import type { ConsumerInfoSource } from './catalog';

/**
 * Durable consumers of `log` whose info (pending, ack-pending, redelivered) is read at scrape:
 * one JetStream CONSUMER.INFO request each, which every service's NATS user may make for its own
 * durables (libs/contracts nats-permissions.ts).
 */
export function durableConsumers(log: EventLog, durables: readonly (readonly [stream: string, durable: string])[]): ConsumerInfoSource[] {
  return durables.map(([stream, durable]) => ({ stream, consumer: durable, info: () => log.jsm.consumers.info(stream, durable) }));
}
