import type { RunView } from '@conclave/contracts';
import { useMutation } from '@tanstack/react-query';
import { Pause, Play, Radio, SkipBack, SkipForward, StepBack, StepForward } from 'lucide-react';
import { useId, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { api } from '../../api/endpoints';
import { formatDateTime } from '../../lib/format';
import { Button } from '../../ui/Button';
import { toastOutcome } from '../../ui/toast';
import { phaseIdOf } from '../timeline';
import { describeEvent, forkTargets, isPhaseBoundary, nearestBoundary, SPEEDS, type Speed } from './scrub-model';
import type { Scrub } from './use-scrub';
import './scrub.css';

/**
 * The run through time: a slider over the run's events (arrow keys, Home / End, Page Up / Down),
 * step back and forward, play at 1×–20× (event time scaled, long gaps capped), back to live, and
 * "fork from here" at a phase boundary. The page above and below shows `scrub.view`.
 */
export function ScrubBar({ scrub, runId }: { scrub: Scrub; runId: string }) {
  const sliderId = useId();
  const speedId = useId();
  const { events, index, active, ready } = scrub;
  const event = events[index];
  const total = events.length;
  const where = describeEvent(event, index, total);
  const disabled = !ready || total === 0;
  const back = nearestBoundary(events, index, -1);
  const ahead = nearestBoundary(events, index, 1);

  return (
    <section className="card scrub" aria-labelledby="scrub-heading" data-testid="scrub">
      <div className="card__head">
        <h2 id="scrub-heading">Time travel</h2>
        <span className="muted" data-testid="scrub-mode">
          {!ready ? 'Loading the timeline…' : active ? `As it was at ${where}` : `Live · ${total} events`}
        </span>
      </div>
      <div className="scrub__controls">
        <Button size="small" variant="ghost" aria-label="Previous event" disabled={disabled || (active && index <= 0)} onClick={() => scrub.goTo(active ? index - 1 : total - 2)}>
          <StepBack size={16} aria-hidden="true" />
        </Button>
        {scrub.playing ? (
          <Button size="small" aria-label="Pause" onClick={scrub.pause}>
            <Pause size={16} aria-hidden="true" />
          </Button>
        ) : (
          <Button size="small" aria-label="Play" disabled={disabled} onClick={scrub.play}>
            <Play size={16} aria-hidden="true" />
          </Button>
        )}
        <Button size="small" variant="ghost" aria-label="Next event" disabled={disabled || !active || index >= total - 1} onClick={() => scrub.goTo(index + 1)}>
          <StepForward size={16} aria-hidden="true" />
        </Button>
        <label className="scrub__speed" htmlFor={speedId}>
          Speed
          <select id={speedId} value={scrub.speed} onChange={(e) => scrub.setSpeed(Number(e.target.value) as Speed)}>
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <label className="sr-only" htmlFor={sliderId}>
          Run sequence
        </label>
        <input
          id={sliderId}
          className="scrub__slider"
          type="range"
          min={0}
          max={Math.max(total - 1, 0)}
          step={1}
          value={Math.max(index, 0)}
          disabled={disabled}
          aria-valuetext={where}
          onChange={(e) => scrub.goTo(Number(e.target.value))}
        />
        <Button size="small" variant={active ? 'primary' : 'ghost'} aria-label="Back to live" aria-pressed={!active} disabled={!active} onClick={scrub.live}>
          <Radio size={16} aria-hidden="true" /> Live
        </Button>
      </div>
      {active && event && (
        <p className="scrub__status" aria-live={scrub.playing ? 'off' : 'polite'} data-testid="scrub-status">
          <span className="mono">#{event.sequence}</span> · {event.type}
          {phaseIdOf(event.data) !== null && <> · {phaseIdOf(event.data)}</>} · {formatDateTime(event.occurredAt)}
        </p>
      )}
      {active && scrub.view && (
        <div className="scrub__fork">
          <Button size="small" variant="ghost" disabled={back === undefined} onClick={() => back !== undefined && scrub.goTo(back)}>
            <SkipBack size={14} aria-hidden="true" /> Previous boundary
          </Button>
          <Button size="small" variant="ghost" disabled={ahead === undefined} onClick={() => ahead !== undefined && scrub.goTo(ahead)}>
            Next boundary <SkipForward size={14} aria-hidden="true" />
          </Button>
          {isPhaseBoundary(event) ? <ForkFromHere runId={runId} view={scrub.view} /> : <span className="muted">Fork from here: at a phase boundary (the run's start or a phase finishing).</span>}
        </div>
      )}
    </section>
  );
}

function ForkFromHere({ runId, view }: { runId: string; view: RunView }) {
  const navigate = useNavigate();
  const selectId = useId();
  const targets = forkTargets(view);
  const [phaseId, setPhaseId] = useState(targets[0]?.id ?? '');
  // the choice made at another boundary may not be a target here: the first one then
  const chosen = targets.some((p) => p.id === phaseId) ? phaseId : (targets[0]?.id ?? '');
  const toasts = toastOutcome<{ id: string }, string>((p) => [`Forked from ${p}`, 'Fork refused'], (r) => `New run ${r.id}`);
  const fork = useMutation({
    mutationFn: (p: string) => api.fork(runId, p),
    onSuccess: (r, p) => {
      toasts.onSuccess(r, p);
      navigate(`/runs/${encodeURIComponent(r.id)}?min_sequence=${r.sequence}`);
    },
    onError: toasts.onError,
  });
  if (targets.length === 0) return <span className="muted">Nothing left to fork from here: every phase had finished.</span>;
  return (
    <span className="scrub__fork-form">
      <label htmlFor={selectId}>Fork from</label>
      <select id={selectId} value={chosen} onChange={(e) => setPhaseId(e.target.value)}>
        {targets.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name ?? p.id}
          </option>
        ))}
      </select>
      <Button size="small" variant="primary" disabled={fork.isPending} onClick={() => fork.mutate(chosen)} title="A new run from this phase, reusing the outputs recorded upstream of it">
        Fork from here
      </Button>
    </span>
  );
}
