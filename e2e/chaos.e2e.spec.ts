import { chaosDefaults, formatChaosTable, runChaos, type ChaosReport } from '@conclave/testing';

/**
 * The short variant of `npm run chaos` (issue 11, item 11): 30 runs on the stack with 3 llm-workers,
 * its own NATS server and Postgres cluster, while one llm-worker is SIGKILLed, one is SIGSTOPped
 * past the stall detector, the projector is SIGKILLed, NATS restarts, and a poison command and a
 * poison event are published. The same code as the script (libs/testing/src/chaos.ts).
 */
describe('chaos (short)', () => {
  let report: ChaosReport;

  beforeAll(async () => {
    report = await runChaos({ ...chaosDefaults(true), label: 'chaos-e2e', log: (m) => console.log(m) });
    console.log(formatChaosTable(report));
  }, 300_000);

  it('drove every run and injected every fault', () => {
    expect(report.notStarted).toEqual([]);
    expect(report.runsStarted).toBe(30);
    expect(report.faults.filter((f) => f.error)).toEqual([]);
    expect(report.faults.length).toBe(6);
    expect(report.stallsInjected).toBe(1);
  });

  it('leaves no run stuck', () => {
    expect(report.stuck.map((s) => `${s.id} ${s.status}: ${s.lastEvents.join(' ')}`)).toEqual([]);
  });

  it('generates each candidate once', () => {
    expect(report.duplicates).toEqual([]);
  });

  it('keeps the read models equal to a replay of the log', () => {
    expect({ differences: report.replay.differences, output: report.replay.differences === 0 ? '' : report.replay.output }).toEqual({ differences: 0, output: '' });
  });

  it('answers no 5xx other than 503', () => {
    expect(report.http.non503_5xx).toEqual([]);
  });
});
