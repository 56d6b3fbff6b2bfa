import type { TranscriptMessage, TranscriptRef } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError } from '../../api/client';
import { api, fetchTimelineSince } from '../../api/endpoints';
import { keys } from '../../api/keys';
import { ErrorNotice } from '../../ui/ErrorNotice';
import { Loading } from '../../ui/Loading';
import { candidateConversation, isLongContent, type Conversation, type ToolCallLike } from './transcript';

const ROLE_LABEL: Record<TranscriptMessage['role'], string> = {
  system: 'System',
  user: 'User',
  assistant: 'Assistant',
  thinking: 'Thinking',
  tool_call: 'Tool call',
  tool_result: 'Tool result',
};

/** One message; a long content is collapsed to its first lines until expanded. */
function Turn({ message: m }: { message: TranscriptMessage }) {
  const long = isLongContent(m.content);
  const [expanded, setExpanded] = useState(false);
  const collapsed = long && !expanded;
  return (
    <li className={`turn turn--${m.role}`} data-role={m.role}>
      <div className="turn__role">
        {ROLE_LABEL[m.role]}
        {m.tool && (
          <>
            {' '}
            <code>{m.tool}</code>
          </>
        )}
        {m.truncated && <span className="muted small"> (truncated by the worker)</span>}
      </div>
      <pre className={`turn__content${collapsed ? ' is-collapsed' : ''}`}>{m.content || <span className="muted">(empty)</span>}</pre>
      {long && (
        <button type="button" className="btn btn--small btn--ghost" aria-expanded={expanded} onClick={() => setExpanded((v) => !v)}>
          {expanded ? 'Collapse' : `Show all (${m.content.length.toLocaleString()} characters)`}
        </button>
      )}
    </li>
  );
}

/** A conversation, message by message (roles labelled in text, not by colour alone). */
export function ConversationViewer({ conversation, label }: { conversation: Conversation; label: string }) {
  return (
    <div className="conversation">
      <p className={`conversation__source conversation__source--${conversation.source}`} data-source={conversation.source}>
        {conversation.source === 'recorded'
          ? 'Recorded transcript.'
          : 'Reconstructed from the run’s events (the prompt, the tool calls and the final output): thinking and intermediate assistant turns are not recorded.'}
      </p>
      <ol className="conversation__list" aria-label={label}>
        {conversation.messages.map((m, i) => (
          <Turn key={i} message={m} />
        ))}
      </ol>
    </div>
  );
}

/**
 * A candidate's conversation, behind a disclosure. Opening it fetches the recorded transcript when
 * the candidate has one (`transcriptRef`, content-addressed: fetched once), else — or when the
 * gateway has none stored (404) — the run's timeline with the events' data to reconstruct it
 * (once per run; refreshed while the candidate is still requested).
 */
export function CandidateConversation({
  runId,
  candidateId,
  transcriptRef,
  liveToolCalls,
  running,
  label,
}: {
  runId: string;
  candidateId: string;
  transcriptRef: TranscriptRef | null;
  liveToolCalls?: readonly ToolCallLike[];
  running: boolean;
  label: string;
}) {
  const [open, setOpen] = useState(false);
  const recorded = useQuery({
    queryKey: keys.transcript(runId, candidateId, transcriptRef?.key ?? ''),
    queryFn: async ({ signal }) => {
      try {
        return (await api.candidateTranscript(runId, candidateId, { signal })).messages;
      } catch (err) {
        if (err instanceof ApiError && err.code === 'not_found') return null; // nothing stored: reconstruct
        throw err;
      }
    },
    enabled: open && transcriptRef !== null,
    staleTime: Infinity,
  });
  const reconstruct = transcriptRef === null || recorded.data === null;
  const entries = useQuery({
    queryKey: keys.timelineEntries(runId),
    queryFn: ({ signal }) => fetchTimelineSince(runId, undefined, { signal }),
    enabled: open && reconstruct,
    staleTime: running ? 2_000 : 30_000,
    refetchInterval: open && running ? 3_000 : false,
  });
  const source = reconstruct ? entries : recorded;
  const conversation =
    open && source.data !== undefined ? candidateConversation(candidateId, { transcript: recorded.data ?? null, events: entries.data, liveToolCalls }) : null;
  return (
    <details className="candidate__conversation" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Conversation{transcriptRef ? ` (${transcriptRef.messages} messages recorded)` : ''}</summary>
      {open &&
        (source.data !== undefined ? (
          conversation ? (
            <ConversationViewer conversation={conversation} label={label} />
          ) : (
            <p className="muted">No conversation recorded for this candidate.</p>
          )
        ) : source.isError ? (
          <ErrorNotice
            error={source.error}
            title={reconstruct ? "Could not load the run's events" : 'Could not load the transcript'}
            onRetry={() => void source.refetch()}
          />
        ) : (
          <Loading label="Loading the conversation…" />
        ))}
    </details>
  );
}
