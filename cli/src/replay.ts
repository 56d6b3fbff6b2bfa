import { setTimeout as sleep } from 'node:timers/promises';
import { ReplayStatus } from '@conclave/contracts';
import { Presets, SingleBar } from 'cli-progress';
import { ApiError, type ApiClient } from './client';
import type { WatchIo } from './watch';

const POLL_MS = 250;

/**
 * Starts a replay on the gateway (`POST /admin/replay`, which rebuilds the read models in the
 * gateway process: docs/adr/004-replay.md) and follows `GET /admin/replay` until it ends, with a
 * cli-progress bar on stderr (plain lines per step when stderr is not a terminal). A replay that is
 * already running (409) is followed instead of failing. Resolves with its final status.
 */
export async function followReplay(client: ApiClient, verify: boolean, io: WatchIo): Promise<ReplayStatus> {
  let status: ReplayStatus;
  try {
    status = await client.post('/admin/replay', ReplayStatus, { verify });
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'illegal_state') throw err;
    io.stderr.write(`${err.message}: following it\n`);
    status = await client.get('/admin/replay', ReplayStatus);
  }
  const bar = io.stderr.isTTY ? new SingleBar({ stream: io.stderr, format: ' {step} |{bar}| log position {value}/{total} | {eta_formatted} left', etaBuffer: 50, hideCursor: true }, Presets.shades_classic) : null;
  let started = false;
  let lastStep = '';
  const show = (s: ReplayStatus) => {
    const step = s.phase ?? s.state;
    const total = Math.max(s.total, s.processed, 1);
    if (bar) {
      if (!started) bar.start(total, s.processed, { step });
      started = true;
      bar.setTotal(total);
      bar.update(s.processed, { step });
    } else if (step !== lastStep) {
      io.stderr.write(`replay: ${step} (log position ${s.processed}/${s.total})\n`);
    }
    lastStep = step;
  };
  try {
    show(status);
    while (status.state === 'running') {
      await sleep(POLL_MS);
      status = await client.get('/admin/replay', ReplayStatus);
      show(status);
    }
  } finally {
    if (started) bar?.stop();
  }
  return status;
}
