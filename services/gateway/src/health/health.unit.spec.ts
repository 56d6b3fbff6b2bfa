import { whatIsDown } from './health.controller';

describe('/ready names what is down', () => {
  it('is ready when everything answers and the projector is caught up', () => {
    expect(whatIsDown({ nats: true, postgres: true, projector: true }, { log: 7, applied: 7 })).toEqual({ down: [], message: 'ready' });
  });

  it('names NATS, Postgres, or both, and does not guess the projector then', () => {
    expect(whatIsDown({ nats: false, postgres: true, projector: false }, { log: null, applied: 5 })).toEqual({
      down: ['nats'],
      message: 'not ready: NATS (the event log) is unreachable; the projector cannot be checked while a dependency is down',
    });
    expect(whatIsDown({ nats: true, postgres: false, projector: false }, { log: null, applied: null }).down).toEqual(['postgres']);
    expect(whatIsDown({ nats: false, postgres: false, projector: false }, { log: null, applied: null })).toEqual({
      down: ['nats', 'postgres'],
      message: 'not ready: NATS (the event log) is unreachable; Postgres (the read models) is unreachable; the projector cannot be checked while a dependency is down',
    });
  });

  it('says by how many commits the projector lags (positions are streamSequence × 1000 + index)', () => {
    expect(whatIsDown({ nats: true, postgres: true, projector: false }, { log: 42_002, applied: 30_001 })).toEqual({
      down: ['projector'],
      message: 'not ready: the projector is 12 commits behind the log (applied position 30001 of 42002)',
    });
    expect(whatIsDown({ nats: true, postgres: true, projector: false }, { log: null, applied: 30 }).message).toBe("not ready: the projector's progress could not be read");
  });
});
