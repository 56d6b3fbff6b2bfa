import type { ArtifactView, RunView } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import Markdown from 'react-markdown';
import { api } from '../../api/endpoints';
import { keys } from '../../api/keys';
import { formatDateTime } from '../../lib/format';
import { Button } from '../../ui/Button';
import { ErrorNotice } from '../../ui/ErrorNotice';
import { Loading } from '../../ui/Loading';
import { DiffViewer } from '../diff/DiffViewer';
import { asCodeChange } from '../diff/unified-diff';
import { candidateRound, roundLabel } from '../loop/loop-rounds';
import { artifactFiles, artifactText, formatOf, markdownOf, saveFile, zipArtifacts, type ArtifactFile } from './artifact-files';
import { JsonTree } from './JsonTree';

/**
 * Every artifact of the run in one place, phase by phase: text rendered as markdown, JSON as a
 * collapsible tree, a code change as its diff; each downloadable, or all of them as one zip built
 * in the browser (files named by phase). Earlier attempts' artifacts and losing agents' diffs are
 * listed under their phase's current one.
 */
export default function ArtifactBrowser({ view }: { view: RunView }) {
  const artifacts = useQuery({
    queryKey: keys.artifacts(view.id),
    queryFn: ({ signal }) => api.listArtifacts(view.id, { minSequence: view.sequence, signal }),
    staleTime: 5_000,
  });
  // a phase completed since the list was read: read it again at the view's sequence (artifacts are
  // only ever added), once per sequence the view moves to
  const known = useMemo(() => new Set(artifacts.data?.items.map((a) => a.id) ?? []), [artifacts.data]);
  const missing = view.phases.some((p) => p.artifactId !== null && !known.has(p.artifactId));
  const readAt = useRef(view.sequence);
  const { refetch, isFetching, isSuccess } = artifacts;
  useEffect(() => {
    if (isSuccess && missing && !isFetching && readAt.current < view.sequence) {
      readAt.current = view.sequence;
      void refetch();
    }
  }, [isSuccess, missing, isFetching, refetch, view.sequence]);

  const files = useMemo(() => artifactFiles(artifacts.data?.items ?? [], view.phases), [artifacts.data, view.phases]);
  return (
    <section className="card artifact-browser" aria-labelledby="artifacts-heading">
      <div className="card__head">
        <h2 id="artifacts-heading">Artifacts</h2>
        <span className="muted">
          {files.length > 0 && `${files.filter((f) => f.current).length} of ${view.phases.length} phases · `}
          <Button
            variant="ghost"
            size="small"
            disabled={files.length === 0}
            onClick={() => saveFile(`${view.id}-artifacts.zip`, zipArtifacts(view.id, files), 'application/zip')}
          >
            Download all (.zip)
          </Button>
        </span>
      </div>
      {artifacts.isPending ? (
        <Loading label="Loading artifacts…" />
      ) : artifacts.isError ? (
        <ErrorNotice error={artifacts.error} title="Could not load the artifacts" onRetry={() => void artifacts.refetch()} />
      ) : files.length === 0 ? (
        <p className="muted">No artifact recorded yet.</p>
      ) : (
        <ul className="artifact-browser__list">
          {view.phases.map((phase) => {
            const mine = files.filter((f) => f.artifact.phaseId === phase.id);
            if (mine.length === 0) return null;
            const current = mine.find((f) => f.current);
            const others = mine.filter((f) => !f.current);
            return (
              <li key={phase.id} className="artifact-browser__phase" data-testid="artifact-entry" data-phase={phase.id}>
                {current ? <ArtifactItem file={current} view={view} heading={phase.name ?? phase.id} /> : <h3>{phase.name ?? phase.id}</h3>}
                {others.length > 0 && (
                  <details className="artifact-browser__others">
                    <summary>
                      {others.length} other artifact{others.length === 1 ? '' : 's'} of this phase (earlier attempts, losing candidates’ diffs)
                    </summary>
                    {others.map((f) => (
                      <ArtifactItem key={f.artifact.id} file={f} view={view} heading={f.name} />
                    ))}
                  </details>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function ArtifactItem({ file, view, heading }: { file: ArtifactFile; view: RunView; heading: string }) {
  const { artifact } = file;
  const [open, setOpen] = useState(true);
  const phase = view.phases.find((p) => p.id === artifact.phaseId);
  const from = artifact.candidateId ? phase?.candidates.find((c) => c.id === artifact.candidateId) : undefined;
  const round = from && phase?.loop ? roundLabel(candidateRound(from), phase.loop.maxRounds) : null;
  const contentId = `artifact-content-${artifact.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <article className="artifact-browser__item" aria-label={`Artifact of ${heading}`}>
      <header className="artifact-browser__head">
        <h3>{heading}</h3>
        <span className="muted small">
          <code>{artifact.artifactType}</code>
          {from && (
            <>
              {' '}
              · from {from.provider}/{from.model}
              {round && <> · {round} ★</>}
            </>
          )}
          {' · '}
          {formatDateTime(artifact.createdAt)}
        </span>
        <span className="artifact-browser__actions">
          <Button variant="ghost" size="small" aria-expanded={open} aria-controls={contentId} onClick={() => setOpen((v) => !v)}>
            {open ? 'Hide' : 'Show'}
          </Button>
          <Button
            variant="ghost"
            size="small"
            aria-label={`Download ${file.name}`}
            onClick={() => saveFile(file.name, artifactText(artifact), formatOf(artifact) === 'markdown' ? 'text/markdown' : 'application/json')}
          >
            Download {file.name}
          </Button>
        </span>
      </header>
      <div id={contentId} hidden={!open}>
        {open && <ArtifactBody artifact={artifact} />}
      </div>
    </article>
  );
}

function ArtifactBody({ artifact }: { artifact: ArtifactView }) {
  const markdown = markdownOf(artifact.content);
  if (markdown !== null) {
    return (
      <div className="prose markdown" data-testid="artifact-markdown">
        <Markdown>{markdown}</Markdown>
      </div>
    );
  }
  const change = artifact.artifactType === 'code-change' || artifact.artifactType === 'candidate-diff' ? asCodeChange(artifact.content) : null;
  if (change) return <DiffViewer change={change} idPrefix={`browser-diff-${artifact.id}`} />;
  return <JsonTree value={artifact.content} label={`Content of ${artifact.phaseId}`} />;
}
