import { headers as natsHeaders } from '@nats-io/transport-node';
import type { StoredMsg } from '@nats-io/jetstream';
import { ConclaveError, DeadLetterRecord, DeadLetterRedriven, parseEventSubject, type Recorded } from '@conclave/contracts';
import { EventLog, type Disposition } from '@conclave/event-log';

/** What the outbox's repair path (`dispatcher`, ADR 025) does with one commit: its events, its run, its stream sequence. */
export type RunEventHandler = (events: Recorded[], runId: string, seq: number) => Promise<Disposition>;

/**
 * Redrive (issue 11 §2): hand a dead letter's original message back to the consumer that gave up
 * on it, after an operator fixed the cause.
 * - Work queues (COMMANDS, RESULTS): the message was acked away, so its bytes and headers are
 *   published again on the original subject (Nats-Msg-Id `redrive:<id>`: a double click is one
 *   message); the consumer handles it like any other and dead-letters it again if it still fails.
 * - The events stream (the dispatcher): the commit is still in the log and must not be written
 *   twice, so the orchestrator's own handler for that consumer runs on it here; a refusal is the
 *   command's answer and nothing is marked.
 * Then a `redriven` mark is appended on the record's subject (the projector folds it).
 */
export async function redriveDeadLetter(
  log: EventLog,
  handlers: ReadonlyMap<string, RunEventHandler>,
  deadLetterId: string,
  actor: { kind: string; id: string },
): Promise<{ id: string; sequence: number }> {
  const { streams, subjects } = log.names;
  const stored = await getMessage(log, streams.deadLetters, Number(deadLetterId));
  const parsed = stored ? DeadLetterRecord.safeParse(stored.json()) : null;
  if (!parsed?.success) throw new ConclaveError('not_found', `dead letter ${deadLetterId} does not exist`);
  const record = parsed.data;

  if (record.stream === streams.events) {
    const handler = handlers.get(record.consumer);
    if (!handler) throw new ConclaveError('illegal_state', `no consumer "${record.consumer}" runs in the orchestrator to take dead letter ${deadLetterId} back`);
    const original = await getMessage(log, streams.events, record.streamSequence);
    const target = original ? parseEventSubject(original.subject, log.names.prefix) : null;
    if (!original || !target || target.aggregate !== 'run') throw new ConclaveError('illegal_state', `event ${record.streamSequence} is no longer in the log`);
    let events: Recorded[];
    try {
      events = EventLog.decodeAll({ json: <T>() => original.json<T>(), headers: original.header, seq: original.seq, subject: original.subject });
    } catch (err) {
      throw new ConclaveError('illegal_state', `event ${record.streamSequence} still does not decode: ${(err as Error).message}`);
    }
    const disposition = await handler(events, target.id, original.seq);
    if (disposition.kind === 'term') throw new ConclaveError('illegal_state', `${record.consumer} refused event ${record.streamSequence} again: ${disposition.reason}`);
    if (disposition.kind === 'nak') throw new ConclaveError('unavailable', `${record.consumer} could not handle event ${record.streamSequence} yet; try again`);
  } else if (record.stream === streams.commands || record.stream === streams.results) {
    if (record.truncated) throw new ConclaveError('illegal_state', `dead letter ${deadLetterId} kept only the first part of its payload; it cannot be sent again`);
    const h = natsHeaders();
    for (const [key, values] of Object.entries(record.headers)) {
      if (key.toLowerCase() === 'nats-msg-id') continue;
      for (const value of values) h.append(key, value);
    }
    await log.js.publish(record.subject, Buffer.from(record.payload, 'base64'), { msgID: `redrive:${record.stream}:${deadLetterId}`, headers: h });
  } else {
    throw new ConclaveError('illegal_state', `dead letters of stream ${record.stream} cannot be redriven`);
  }

  const mark = DeadLetterRedriven.parse({ kind: 'redriven', deadLetterId, at: new Date().toISOString(), actor });
  const ack = await log.publish(subjects.deadLetter(record.consumer), mark, `redriven:${deadLetterId}:${mark.at}`);
  return { id: deadLetterId, sequence: ack.seq };
}

async function getMessage(log: EventLog, stream: string, seq: number): Promise<StoredMsg | null> {
  if (!Number.isSafeInteger(seq) || seq < 1) return null;
  try {
    return await log.jsm.streams.getMessage(stream, { seq });
  } catch (err) {
    if (/no message found|not found/i.test(String((err as Error).message))) return null;
    throw err;
  }
}
