import { Injectable } from '@nestjs/common';
import type { Template } from '@conclave/contracts';

/** templates whose lookups are kept */
const CACHED = 500;

/**
 * The templates a POST /runs looks at before the orchestrator decides (the workspace default, the
 * sandbox check), kept so that starting a run does not read Postgres each time. A template's
 * entries are dropped when the relay sees an event of its aggregate (a new version, an archive),
 * so a stale entry lives only as long as the relay's own delay — and the orchestrator resolves the
 * version a run really uses from the log anyway.
 */
@Injectable()
export class TemplateCache {
  private readonly entries = new Map<string, Template | null>();

  async get(templateId: string, version: number | undefined, load: () => Promise<Template | null>): Promise<Template | null> {
    const key = `${templateId}@${version ?? 'latest'}`;
    if (this.entries.has(key)) return this.entries.get(key)!;
    const template = await load();
    if (template) {
      // a template that is not there (yet) is not remembered: it may be projected any moment
      this.entries.set(key, template);
      while (this.entries.size > CACHED) this.entries.delete(this.entries.keys().next().value!);
    }
    return template;
  }

  /** an event of the template's aggregate was appended */
  invalidate(templateId: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${templateId}@`)) this.entries.delete(key);
  }
}
