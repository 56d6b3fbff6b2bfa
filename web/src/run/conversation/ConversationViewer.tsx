import type { TranscriptMessage } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { fetchTimelineSince } from '../../api/endpoints';
import { keys } from '../../api/keys';
import { ErrorNotice } from '../../ui/ErrorNotice';
import { Loading } from '../../ui/Loading';
import { candidateConversation, type Conversation, type ToolCallLike } from './transcript';

const ROLE_LABEL: Record<TranscriptMessage['role'], string> = {
  system: 'System',
  user: 'User',
  assistant: 'Assistant',
  thinking: 'Thinking',
  tool_call: 'Tool call',
  tool_result: 'Tool result',
};

/** A conversation, message by message (roles labelled in text, not by colour alone). */
export function ConversationViewer({ conversation, label }: { conversation: Conversation; label: string }) {
  return (
    <div className="conversation">
      <p className={`conversation__source conversation__source--${conversation.source}`}>
        {conversation.source === 'recorded'
          ? 'Recorded transcript.'
          : 'Reconstructed from the run’s events (the prompt, the tool calls and the final output): thinking and intermediate assistant turns are not recorded.'}
      </p>
      <ol className="conversation__list" aria-label={label}>
        {conversation.messages.map((m, i) => (
          <li key={i} className={`turn turn--${m.role}`}>
            <div className="turn__role">
              {ROLE_LABEL[m.role]}
              {m.tool && (
                <>
                  {' '}
                  <code>{m.tool}</code>
                </>
              )}
              {m.truncated && <span className="muted small"> (truncated)</span>}
            </div>
            <pre className="turn__content">{m.content || <span className="muted">(empty)</span>}</pre>
          </li>
        ))}
      </ol>
    </div>
  );
}

/**
 * A candidate's conversation, behind a disclosure: opening it fetches the run's timeline with the
 * events' data (once per run; refreshed while the candidate is still requested).
 */
export function CandidateConversation({
  runId,
  candidateId,
  transcript,
  liveToolCalls,
  running,
  label,
}: {
  runId: string;
  candidateId: string;
  transcript?: readonly TranscriptMessage[] | null;
  liveToolCalls?: readonly ToolCallLike[];
  running: boolean;
  label: string;
}) {
  const [open, setOpen] = useState(false);
  const recorded = transcript && transcript.length > 0;
  const entries = useQuery({
    queryKey: keys.timelineEntries(runId),
    queryFn: ({ signal }) => fetchTimelineSince(runId, undefined, { signal }),
    enabled: open && !recorded,
    staleTime: running ? 2_000 : 30_000,
    refetchInterval: open && running ? 3_000 : false,
  });
  const conversation = open ? candidateConversation(candidateId, { transcript, events: entries.data, liveToolCalls }) : null;
  return (
    <details className="candidate__conversation" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Conversation</summary>
      {open &&
        (recorded || entries.data ? (
          conversation ? (
            <ConversationViewer conversation={conversation} label={label} />
          ) : (
            <p className="muted">No conversation recorded for this candidate.</p>
          )
        ) : entries.isError ? (
          <ErrorNotice error={entries.error} title="Could not load the run's events" onRetry={() => void entries.refetch()} />
        ) : (
          <Loading label="Loading the conversation…" />
        ))}
    </details>
  );
}
