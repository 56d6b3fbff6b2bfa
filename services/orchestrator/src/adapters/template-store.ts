import { randomUUID } from 'node:crypto';
import { ConclaveError, messageSequenceOf, POSITIONS_PER_MESSAGE, positionOf, type Template, type TemplateEvent } from '@conclave/contracts';
import { ConcurrencyError, EventLog, type AppendMeta } from '@conclave/event-log';

export interface TemplateAggregate {
  versions: Map<number, Template>;
  latest: number;
  archived: boolean;
  sequence: number;
}

/** templates whose aggregates are kept (a StartRun reads only what was appended since) */
const CACHED_TEMPLATES = 1000;

/**
 * Templates are aggregates of their own (`events.template.<id>`); the orchestrator writes them.
 * An aggregate is cached: loading it again asks the log only for messages after its last event's (one direct get that finds none, on the hot path of StartRun).
 */
export class TemplateStore {
  private readonly cache = new Map<string, TemplateAggregate>();

  constructor(private readonly log: EventLog) {}

  async load(templateId: string): Promise<TemplateAggregate | null> {
    const cached = this.cache.get(templateId);
    // only what was appended after the cached aggregate's last message
    const after = cached ? positionOf(messageSequenceOf(cached.sequence), POSITIONS_PER_MESSAGE - 1) : 0;
    const events = await this.log.read('template', templateId, after);
    if (events.length === 0 && !cached) return null;
    const agg: TemplateAggregate = cached ? { ...cached, versions: new Map(cached.versions) } : { versions: new Map(), latest: 0, archived: false, sequence: 0 };
    if (events.length > 0) agg.sequence = events[events.length - 1]!.sequence;
    this.cache.delete(templateId);
    this.cache.set(templateId, agg);
    while (this.cache.size > CACHED_TEMPLATES) this.cache.delete(this.cache.keys().next().value!);
    for (const e of events as unknown as TemplateEvent[]) {
      switch (e.type) {
        case 'TemplateCreated':
        case 'TemplateVersionAdded':
          agg.versions.set(e.data.version, e.data.template);
          agg.latest = Math.max(agg.latest, e.data.version);
          break;
        case 'TemplateArchived':
          agg.archived = true;
          break;
        default: {
          const never: never = e;
          void never;
        }
      }
    }
    return agg;
  }

  /** The template a new run freezes: the requested version, else the latest. */
  async resolve(templateId: string, version?: number): Promise<{ template: Template; version: number }> {
    const agg = await this.load(templateId);
    if (!agg || agg.archived) throw new ConclaveError('not_found', `template ${templateId} does not exist`);
    const v = version ?? agg.latest;
    const template = agg.versions.get(v);
    if (!template) throw new ConclaveError('not_found', `template ${templateId} has no version ${v}`, { versions: [...agg.versions.keys()] });
    return { template, version: v };
  }

  async create(template: Template, meta: AppendMeta): Promise<{ id: string; version: number; sequence: number }> {
    const id = randomUUID();
    const [recorded] = await this.log.append('template', id, [{ type: 'TemplateCreated', data: { templateId: id, version: 1, template } }], 0, meta);
    return { id, version: 1, sequence: recorded!.sequence };
  }

  /** Archive: hidden from lists and refused for new runs; existing runs keep their frozen snapshot. */
  async archive(templateId: string, meta: AppendMeta): Promise<{ id: string; sequence: number }> {
    const agg = await this.load(templateId);
    if (!agg || agg.archived) throw new ConclaveError('not_found', `template ${templateId} does not exist`);
    try {
      const [recorded] = await this.log.append('template', templateId, [{ type: 'TemplateArchived', data: { templateId } }], agg.sequence, meta);
      return { id: templateId, sequence: recorded!.sequence };
    } catch (err) {
      if (err instanceof ConcurrencyError) throw new ConclaveError('concurrency', `template ${templateId} changed concurrently; try again`);
      throw err;
    }
  }

  async addVersion(templateId: string, template: Template, meta: AppendMeta): Promise<{ id: string; version: number; sequence: number }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const agg = await this.load(templateId);
      if (!agg || agg.archived) throw new ConclaveError('not_found', `template ${templateId} does not exist`);
      const version = agg.latest + 1;
      try {
        const [recorded] = await this.log.append('template', templateId, [{ type: 'TemplateVersionAdded', data: { templateId, version, template } }], agg.sequence, meta);
        return { id: templateId, version, sequence: recorded!.sequence };
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
    throw new ConclaveError('concurrency', `template ${templateId} is being changed concurrently; try again`);
  }
}
