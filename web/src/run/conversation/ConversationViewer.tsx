import type { TranscriptMessage, TranscriptRef } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { ApiError } from '../../api/client';
import { api, fetchTimelineSince } from '../../api/endpoints';
import { keys } from '../../api/keys';
import { ErrorNotice } from '../../ui/ErrorNotice';
import { formatClock, formatDateTime } from '../../lib/format';
import { Loading } from '../../ui/Loading';
import { candidateTiming, conversationText, highlightParts, messageText, messageTimes, ROLE_LABEL, searchMessages, type ToolTiming } from './conversation-tools';
import { candidateConversation, isLongContent, type Conversation, type ToolCallLike } from './transcript';

/** Copy to the clipboard (the async API where the page may use it, else a hidden textarea). */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      /* permission refused: fall back */
    }
  }
  const area = Object.assign(document.createElement('textarea'), { value: text });
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('the browser refused to copy');
}

/** A copy button; beside it, for a moment, whether it worked (the button's own name stays, as its label says). */
function CopyButton({ text, label, children }: { text: () => string; label: string; children: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <>
      <button
        type="button"
        className="btn btn--small btn--ghost"
        aria-label={label}
        onClick={() => {
          copyText(text()).then(
            () => setState('copied'),
            () => setState('failed'),
          );
          setTimeout(() => setState('idle'), 2_000);
        }}
      >
        {children}
      </button>
      <span className="muted small" role="status">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Could not copy' : ''}
      </span>
    </>
  );
}

function Highlighted({ text, query }: { text: string; query: string }) {
  return (
    <>
      {highlightParts(text, query).map((p, i) => (p.match ? <mark key={i}>{p.text}</mark> : p.text))}
    </>
  );
}

/** One message; a long content is collapsed to its first lines until expanded (or while a search matches it). */
function Turn({ message: m, index, time, query }: { message: TranscriptMessage; index: number; time: string | null; query: string }) {
  const long = isLongContent(m.content);
  const [expanded, setExpanded] = useState(false);
  const searching = query.trim() !== '';
  const collapsed = long && !expanded && !searching;
  return (
    <li className={`turn turn--${m.role}`} data-role={m.role} data-testid="conversation-message">
      <div className="turn__role">
        {ROLE_LABEL[m.role]}
        {m.tool && (
          <>
            {' '}
            <code>
              <Highlighted text={m.tool} query={query} />
            </code>
          </>
        )}
        {m.truncated && <span className="muted small"> (truncated by the worker)</span>}
        {time && (
          <time className="turn__time muted small" dateTime={time} title={formatDateTime(time)}>
            {formatClock(time)}
          </time>
        )}
        <CopyButton text={() => messageText(m, time)} label={`Copy message ${index + 1} (${ROLE_LABEL[m.role]})`}>
          Copy
        </CopyButton>
      </div>
      <pre className={`turn__content${collapsed ? ' is-collapsed' : ''}`}>{m.content ? <Highlighted text={m.content} query={query} /> : <span className="muted">(empty)</span>}</pre>
      {long && !searching && (
        <button type="button" className="btn btn--small btn--ghost" aria-expanded={expanded} onClick={() => setExpanded((v) => !v)}>
          {expanded ? 'Collapse' : `Show all (${m.content.length.toLocaleString()} characters)`}
        </button>
      )}
    </li>
  );
}

/**
 * A conversation, message by message (roles labelled in text, not by colour alone), each with its
 * time when the run's events tell it; a search filters the messages and highlights the matches;
 * each message, or the whole conversation, can be copied.
 */
export function ConversationViewer({ conversation, label, times = [] }: { conversation: Conversation; label: string; times?: readonly (string | null)[] }) {
  const [query, setQuery] = useState('');
  const searchId = useId();
  const { messages } = conversation;
  const shown = searchMessages(messages, query);
  return (
    <div className="conversation">
      <p className={`conversation__source conversation__source--${conversation.source}`} data-source={conversation.source}>
        {conversation.source === 'recorded'
          ? 'Recorded transcript.'
          : 'Reconstructed from the run’s events (the prompt, the tool calls and the final output): thinking and intermediate assistant turns are not recorded.'}
      </p>
      <div className="conversation__toolbar">
        <label htmlFor={searchId} className="sr-only">
          Search {label.charAt(0).toLowerCase() + label.slice(1)}
        </label>
        <input id={searchId} type="search" className="input conversation__search" placeholder="Search messages…" value={query} onChange={(e) => setQuery(e.target.value)} />
        <span className="muted small" role="status" data-testid="conversation-matches">
          {query.trim() ? `${shown.length} of ${messages.length} messages match` : `${messages.length} messages`}
        </span>
        <CopyButton text={() => conversationText(messages, times)} label={`Copy conversation (${messages.length} messages)`}>
          Copy conversation
        </CopyButton>
      </div>
      <ol className="conversation__list" aria-label={label}>
        {shown.map((i) => (
          <Turn key={i} index={i} message={messages[i]!} time={times[i] ?? null} query={query} />
        ))}
      </ol>
      {shown.length === 0 && <p className="muted">No message contains “{query.trim()}”.</p>}
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
    // also for a recorded transcript: the events date its messages
    enabled: open,
    staleTime: running ? 2_000 : 30_000,
    refetchInterval: open && running ? 3_000 : false,
  });
  const source = reconstruct ? entries : recorded;
  const conversation =
    open && source.data !== undefined ? candidateConversation(candidateId, { transcript: recorded.data ?? null, events: entries.data, liveToolCalls }) : null;
  const times = conversation ? messageTimes(conversation.messages, candidateTiming(candidateId, entries.data ?? [], liveToolCalls as ToolTiming[] | undefined)) : [];
  return (
    <details className="candidate__conversation" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Conversation{transcriptRef ? ` (${transcriptRef.messages} messages recorded)` : ''}</summary>
      {open &&
        (source.data !== undefined ? (
          conversation ? (
            <ConversationViewer conversation={conversation} label={label} times={times} />
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
