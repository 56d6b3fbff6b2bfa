import { Inject, Injectable } from '@nestjs/common';
import { ConclaveError, CreatedResponse, type DeadLetterListQuery, type DeadLetterView } from '@conclave/contracts';
import { DEAD_LETTER_ID, DEAD_LETTERS_CHECKPOINT, ReadModelQueries } from '@conclave/read-models';
import type { GatewayConfig } from '../config';
import { OrchestratorClient } from '../orchestrator/orchestrator.client';
import { CONFIG } from '../tokens';

/**
 * Dead letters (issue 11 §2): reads of the `dead_letters` read model (folded by the projector from
 * the DEAD_LETTERS stream) and redrive, which the orchestrator performs (RedriveDeadLetter).
 * Their `?min_sequence=` is a DEAD_LETTERS sequence (a redrive's answer), not an events one.
 */
@Injectable()
export class DeadLettersService {
  constructor(
    @Inject(ReadModelQueries) private readonly queries: ReadModelQueries,
    @Inject(OrchestratorClient) private readonly orchestrator: OrchestratorClient,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  async list(query: DeadLetterListQuery, minSequence?: number): Promise<{ items: DeadLetterView[]; nextCursor: string | null }> {
    await this.waitFor(minSequence);
    return this.queries.listDeadLetters(query);
  }

  async get(id: string, minSequence?: number): Promise<DeadLetterView> {
    const wellFormed = deadLetterIdOr400(id);
    await this.waitFor(minSequence);
    const view = await this.queries.getDeadLetter(wellFormed);
    if (!view) throw new ConclaveError('not_found', `dead letter ${wellFormed} not found`);
    return view;
  }

  /**
   * Ask the orchestrator to hand the original message back to its consumer. One the read model
   * already shows redriven is a 409 (its redrive is deduplicated by the broker for a while only);
   * one it does not know yet is left to the orchestrator, which reads the stream itself.
   */
  async redrive(id: string, requestId: string): Promise<{ id: string; sequence: number }> {
    const wellFormed = deadLetterIdOr400(id);
    const known = await this.queries.getDeadLetter(wellFormed);
    if (known?.redrivenAt) {
      throw new ConclaveError('illegal_state', `dead letter ${wellFormed} was already redriven at ${known.redrivenAt}${known.redrivenBy ? ` by ${known.redrivenBy}` : ''}`, {
        redrivenAt: known.redrivenAt,
      });
    }
    const reply = await this.orchestrator.send({ type: 'RedriveDeadLetter', deadLetterId: wellFormed }, requestId);
    return CreatedResponse.parse({ id: reply.id, sequence: reply.sequence });
  }

  private async waitFor(sequence: number | undefined): Promise<void> {
    if (sequence === undefined) return;
    if (await this.queries.waitForSequence(sequence, this.config.MIN_SEQUENCE_WAIT_MS, DEAD_LETTERS_CHECKPOINT)) return;
    throw new ConclaveError('unavailable', `dead letters have not caught up to sequence ${sequence}`, { minSequence: sequence, waitedMs: this.config.MIN_SEQUENCE_WAIT_MS });
  }
}

/** A dead letter's id is its DEAD_LETTERS sequence; anything else is a 400, never a lookup. */
export function deadLetterIdOr400(id: string): string {
  if (!DEAD_LETTER_ID.test(id)) {
    throw new ConclaveError('bad_request', 'a dead letter id is a positive integer (its sequence in the DEAD_LETTERS stream)', { id: id.length > 64 ? `${id.slice(0, 64)}…` : id });
  }
  return id;
}
