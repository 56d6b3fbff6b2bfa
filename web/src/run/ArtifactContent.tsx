import { useQuery } from '@tanstack/react-query';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { ErrorNotice } from '../ui/ErrorNotice';
import { JsonBlock } from '../ui/JsonBlock';
import { Loading } from '../ui/Loading';
import { DiffViewer } from './diff/DiffViewer';
import { asCodeChange } from './diff/unified-diff';

/** A phase's artifact, fetched once (artifacts are immutable). */
export function ArtifactContent({ runId, artifactId, minSequence }: { runId: string; artifactId: string; minSequence: number }) {
  const artifact = useQuery({
    queryKey: keys.artifact(runId, artifactId),
    queryFn: ({ signal }) => api.getArtifact(runId, artifactId, { minSequence, signal }),
    staleTime: Infinity,
  });
  if (artifact.isPending) return <Loading label="Loading artifact…" />;
  if (artifact.isError) return <ErrorNotice error={artifact.error} title="Could not load the artifact" onRetry={() => void artifact.refetch()} />;
  const { artifactType, content, candidateId } = artifact.data;
  const codeChange = artifactType === 'code-change' ? asCodeChange(content) : null;
  return (
    <div className="artifact">
      <p className="muted">
        type <code>{artifactType}</code>
        {candidateId && (
          <>
            {' '}
            · from <code>{candidateId}</code>
          </>
        )}
      </p>
      {artifactType === 'code-change' && codeChange ? (
        <DiffViewer change={codeChange} idPrefix={`diff-${artifactId}`} />
      ) : typeof content === 'object' && content !== null && 'text' in content && typeof content.text === 'string' && Object.keys(content).length === 1 ? (
        <div className="prose">{content.text}</div>
      ) : (
        <JsonBlock value={content} label="Artifact content" maxHeight={420} />
      )}
    </div>
  );
}
