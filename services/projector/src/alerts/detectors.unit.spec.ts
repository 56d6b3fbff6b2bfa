import { AlertRaisedData } from '@conclave/contracts';
import { ProjectorEnv } from '../config';
import {
  DEFAULT_THRESHOLDS,
  deadLetterAlert,
  detectCostSpike,
  detectCredentialFailures,
  detectProviderFailures,
  detectStalledRuns,
  median,
  type ProviderCallFailure,
  type RunActivity,
} from './detectors';

const NOW = new Date('2026-12-04T12:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
/** every detected alert must be an event the log accepts */
const valid = <T>(alerts: T[]): T[] => {
  for (const a of alerts) expect(AlertRaisedData.safeParse(a).success).toBe(true);
  return alerts;
};

describe('alert detectors (ADR 016)', () => {
  describe('stalled runs', () => {
    const run = (over: Partial<RunActivity>): RunActivity => ({ runId: 'r1', templateId: 't1', status: 'running', lastSequence: 7000, lastEventAt: minutesAgo(11), ...over });

    it('given a running run silent for longer than the threshold, when swept, then it raises one run_stalled alert keyed by the run and its last position', () => {
      const alerts = valid(detectStalledRuns([run({})], NOW, { stallMinutes: 10 }));
      expect(alerts).toEqual([
        expect.objectContaining({ alertId: 'run-stalled-r1-7000', kind: 'run_stalled', runId: 'r1', templateId: 't1', details: expect.objectContaining({ lastSequence: 7000, stallMinutes: 10 }) }),
      ]);
      expect(alerts[0]!.message).toBe('Run r1 has made no progress for 11 min (threshold 10 min)');
    });

    it('given runs that progressed recently, wait for a person, are paused or finished, when swept, then nothing is raised', () => {
      const runs = [run({ lastEventAt: minutesAgo(9) }), run({ status: 'waiting' }), run({ status: 'paused' }), run({ status: 'completed', lastEventAt: minutesAgo(600) })];
      expect(detectStalledRuns(runs, NOW, { stallMinutes: 10 })).toEqual([]);
    });

    it('given the same silence seen twice, then the ids agree; after progress and a new silence, the id is new', () => {
      const first = detectStalledRuns([run({})], NOW, { stallMinutes: 10 });
      const again = detectStalledRuns([run({})], new Date(NOW.getTime() + 60_000), { stallMinutes: 10 });
      const later = detectStalledRuns([run({ lastSequence: 9000 })], NOW, { stallMinutes: 10 });
      expect(again[0]!.alertId).toBe(first[0]!.alertId);
      expect(later[0]!.alertId).not.toBe(first[0]!.alertId);
    });

    it('takes fractions of a minute (a short threshold for tests)', () => {
      expect(detectStalledRuns([run({ lastEventAt: new Date(NOW.getTime() - 4_000) })], NOW, { stallMinutes: 0.05 })).toHaveLength(1);
      expect(detectStalledRuns([run({ lastEventAt: new Date(NOW.getTime() - 2_000) })], NOW, { stallMinutes: 0.05 })).toHaveLength(0);
    });
  });

  describe('repeated provider failures', () => {
    const fail = (provider: string, ago: number, code = 'provider_error'): ProviderCallFailure => ({ provider, code, at: minutesAgo(ago), runId: `run-${ago}` });
    const t = { providerFailures: 3, providerWindowMinutes: 10 };

    it('given k provider-side failures of one provider within the window, then one provider_failures alert names it', () => {
      const alerts = valid(detectProviderFailures([fail('openai', 1), fail('openai', 2, 'timeout'), fail('openai', 9, 'rate_limited'), fail('anthropic', 1)], NOW, t));
      expect(alerts).toEqual([
        expect.objectContaining({ kind: 'provider_failures', providerName: 'openai', runId: 'run-1', details: expect.objectContaining({ failures: 3, codes: ['provider_error', 'rate_limited', 'timeout'] }) }),
      ]);
      expect(alerts[0]!.message).toBe('Provider openai failed 3 times in the last 10 min (provider_error, rate_limited, timeout)');
    });

    it('given failures outside the window, or failures that are not the provider\'s fault, then nothing is raised', () => {
      expect(detectProviderFailures([fail('openai', 1), fail('openai', 2), fail('openai', 11)], NOW, t)).toEqual([]);
      expect(detectProviderFailures([fail('openai', 1, 'output_invalid'), fail('openai', 2, 'cancelled'), fail('openai', 3, 'content_filtered')], NOW, t)).toEqual([]);
    });

    it('given the same failures seen by two detectors, then the alert ids agree (one alert per provider and window)', () => {
      const failures = [fail('openai', 1), fail('openai', 2), fail('openai', 3)];
      const a = detectProviderFailures(failures, NOW, t);
      const b = detectProviderFailures(failures, new Date(NOW.getTime() + 30_000), t);
      expect(b[0]!.alertId).toBe(a[0]!.alertId);
    });
  });

  describe('refused credentials', () => {
    it('given a 401 of a provider, then one provider_credentials alert per provider configuration', () => {
      const failures: ProviderCallFailure[] = [
        { provider: 'openai', code: 'auth_failed', at: minutesAgo(1), runId: 'r1' },
        { provider: 'openai', code: 'auth_failed', at: minutesAgo(2), runId: 'r2' },
        { provider: 'anthropic', code: 'rate_limited', at: minutesAgo(1), runId: 'r3' },
      ];
      const alerts = valid(detectCredentialFailures(failures, new Map([['openai', 4000]])));
      expect(alerts).toEqual([
        expect.objectContaining({ alertId: 'provider-credentials-openai-4000', kind: 'provider_credentials', providerName: 'openai', runId: 'r1', message: 'Provider openai refused its credentials: a call of run r1 was refused (auth_failed)' }),
      ]);
      // a new configuration (a new key) is a new alert
      expect(detectCredentialFailures(failures, new Map([['openai', 9000]]))[0]!.alertId).toBe('provider-credentials-openai-9000');
    });
  });

  describe('cost spikes', () => {
    const t = { costSpikeFactor: 3, costSpikeMinRuns: 5 };

    it('given a run costing more than k × its template\'s median, then a cost_spike alert with the ratio', () => {
      const alert = detectCostSpike({ runId: 'r9', templateId: 't1', costUsd: 1 }, [0.1, 0.2, 0.2, 0.3, 0.25], t);
      expect(valid([alert])).toEqual([
        expect.objectContaining({ alertId: 'cost-spike-r9', kind: 'cost_spike', runId: 'r9', templateId: 't1', details: expect.objectContaining({ medianUsd: 0.2, ratio: 5, runsCompared: 5 }) }),
      ]);
      expect(alert!.message).toBe('Run r9 cost $1, 5× the median of template t1 ($0.2 over 5 runs)');
    });

    it('given a run within k × the median, too few earlier runs, or a free template, then no alert', () => {
      expect(detectCostSpike({ runId: 'r', templateId: 't', costUsd: 0.6 }, [0.2, 0.2, 0.2, 0.2, 0.2], t)).toBeNull();
      expect(detectCostSpike({ runId: 'r', templateId: 't', costUsd: 9 }, [0.2, 0.2, 0.2, 0.2], t)).toBeNull();
      expect(detectCostSpike({ runId: 'r', templateId: 't', costUsd: 9 }, [0, 0, 0, 0, 0], t)).toBeNull();
    });

    it('median of odd and even samples', () => {
      expect(median([3, 1, 2])).toBe(2);
      expect(median([4, 1, 2, 3])).toBe(2.5);
      expect(median([])).toBe(0);
    });
  });

  describe('dead letters', () => {
    it('given a dead-letter record, then one dead_letter alert keyed by its DEAD_LETTERS sequence', () => {
      const alert = deadLetterAlert(42, {
        kind: 'dead',
        consumer: 'llm-workers',
        stream: 'COMMANDS',
        subject: 'commands.generate',
        streamSequence: 7,
        deliveries: 5,
        reason: 'max_deliver',
        error: 'boom\u0000',
        deadAt: NOW.toISOString(),
        runId: 'r1',
        by: 'llm-worker-1',
        headers: {},
        payload: '{}',
        truncated: false,
      } as Parameters<typeof deadLetterAlert>[1]);
      expect(valid([alert])).toEqual([
        expect.objectContaining({ alertId: 'dead-letter-42', kind: 'dead_letter', runId: 'r1', message: 'llm-workers gave up on a message of commands.generate (max_deliver): dead letter 42' }),
      ]);
    });
  });

  describe('configuration', () => {
    it('reads the thresholds from the environment, with defaults', () => {
      const base = { NATS_URL: 'nats://127.0.0.1:4222', DATABASE_URL: 'postgres://x@127.0.0.1/y' };
      const defaults = ProjectorEnv.parse(base);
      expect(defaults.CONCLAVE_STALL_MINUTES).toBe(DEFAULT_THRESHOLDS.stallMinutes);
      expect(ProjectorEnv.parse({ ...base, CONCLAVE_STALL_MINUTES: '0.05' }).CONCLAVE_STALL_MINUTES).toBe(0.05);
      expect(ProjectorEnv.safeParse({ ...base, CONCLAVE_STALL_MINUTES: '0' }).success).toBe(false);
      expect(ProjectorEnv.safeParse({ ...base, CONCLAVE_ALERT_COST_SPIKE_FACTOR: 'lots' }).success).toBe(false);
    });
  });
});
