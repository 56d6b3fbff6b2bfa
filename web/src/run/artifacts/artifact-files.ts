import type { ArtifactView, PhaseView } from '@conclave/contracts';
import { strToU8, zipSync } from 'fflate';

/**
 * A run's artifacts as files: what the artifact browser renders and downloads, one file per
 * artifact named by its phase. Pure (the zip is built in memory on the client).
 */

export type ArtifactFormat = 'markdown' | 'json';

/** The text a `text` artifact ({ text }) or a bare string carries: rendered as markdown. */
export function markdownOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (typeof content === 'object' && content !== null && !Array.isArray(content)) {
    const keys = Object.keys(content);
    const text = (content as { text?: unknown }).text;
    if (keys.length === 1 && typeof text === 'string') return text;
  }
  return null;
}

export function formatOf(artifact: Pick<ArtifactView, 'content'>): ArtifactFormat {
  return markdownOf(artifact.content) === null ? 'json' : 'markdown';
}

/**
 * `<phaseId>.md` / `<phaseId>.json` for the phase's current artifact; earlier attempts' artifacts
 * and a losing agent's diff get the rest of their id: `<phaseId>.attempt-1.json`,
 * `<phaseId>.attempt-2.loser-1.json`. Characters a file system may refuse become `_`.
 */
export function artifactFileName(artifact: Pick<ArtifactView, 'id' | 'runId' | 'phaseId' | 'content'>, current: boolean): string {
  const ext = formatOf(artifact) === 'markdown' ? 'md' : 'json';
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
  if (current) return `${safe(artifact.phaseId)}.${ext}`;
  const prefix = `${artifact.runId}.${artifact.phaseId}.`;
  const rest = artifact.id.startsWith(prefix) ? artifact.id.slice(prefix.length) : artifact.id;
  // `<attempt>.artifact[.loser.<slot>]`
  const m = /^(\d+)\.artifact(?:\.loser\.(\d+))?$/.exec(rest);
  const tail = m ? `attempt-${m[1]}${m[2] !== undefined ? `.loser-${m[2]}` : ''}` : rest;
  return `${safe(artifact.phaseId)}.${safe(tail)}.${ext}`;
}

export function artifactText(artifact: Pick<ArtifactView, 'content'>): string {
  const markdown = markdownOf(artifact.content);
  return markdown ?? `${JSON.stringify(artifact.content, null, 2)}\n`;
}

export interface ArtifactFile {
  name: string;
  artifact: ArtifactView;
  /** the phase's current artifact (PhaseView.artifactId) */
  current: boolean;
}

/**
 * Every artifact of the run as a file, in the phases' order (then as recorded); a name taken twice
 * gets the artifact's id. Artifacts of phases not in `phases` come last.
 */
export function artifactFiles(artifacts: readonly ArtifactView[], phases: readonly Pick<PhaseView, 'id' | 'artifactId'>[]): ArtifactFile[] {
  const position = new Map(phases.map((p, i) => [p.id, i]));
  const currentIds = new Set(phases.map((p) => p.artifactId).filter((id): id is string => id !== null));
  const ordered = [...artifacts].sort((a, b) => (position.get(a.phaseId) ?? Infinity) - (position.get(b.phaseId) ?? Infinity));
  const used = new Set<string>();
  return ordered.map((artifact) => {
    const current = currentIds.has(artifact.id);
    let name = artifactFileName(artifact, current);
    if (used.has(name)) name = `${artifact.id.replace(/[^A-Za-z0-9._-]+/g, '_')}.${formatOf(artifact) === 'markdown' ? 'md' : 'json'}`;
    used.add(name);
    return { name, artifact, current };
  });
}

/** The files in one zip archive (deflated), under a folder named after the run. */
export function zipArtifacts(runId: string, files: readonly ArtifactFile[]): Uint8Array {
  const folder = runId.replace(/[^A-Za-z0-9._-]+/g, '_');
  const entries: Record<string, Uint8Array> = {};
  for (const f of files) entries[`${folder}/${f.name}`] = strToU8(artifactText(f.artifact));
  return zipSync(entries, { level: 6 });
}

/** Save bytes or text as a file through a temporary link (the browser's download). */
export function saveFile(name: string, data: Uint8Array | string, type: string): void {
  const blob = new Blob([typeof data === 'string' ? data : (data as Uint8Array<ArrayBuffer>)], { type });
  const href = URL.createObjectURL(blob);
  try {
    const a = Object.assign(document.createElement('a'), { href, download: name, rel: 'noopener' });
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
  }
}
