import { JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, ConnectionError, NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { HTTP_STATUS } from '@conclave/contracts';
import { LogUnavailableError } from '@conclave/event-log';
import { toConclaveError } from './error-filter';

const mapped = (err: unknown) => {
  const { error, unexpected } = toConclaveError(err);
  return { status: HTTP_STATUS[error.code], code: error.code, dependency: (error.details as { dependency?: string } | undefined)?.dependency, unexpected };
};

describe('an unreachable dependency is a 503 unavailable, never a 500', () => {
  it.each([
    ['a NATS request that timed out (the client is reconnecting)', new TimeoutError()],
    ['a request nobody answered', new RequestError('no responders', { cause: new NoRespondersError('x.orchestrator') })],
    ['a closed connection', new ClosedConnectionError()],
    ['a refused connection', new ConnectionError('connection refused')],
    ['JetStream answering 503', new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' })],
    ['a log read that got no events', new LogUnavailableError('the log did not deliver the 3 events it reported')],
  ])('NATS: %s', (_what, err) => {
    expect(mapped(err)).toEqual({ status: 503, code: 'unavailable', dependency: 'nats', unexpected: false });
  });

  it('Postgres: a refused connection and a pool that lost its server', () => {
    expect(mapped(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toEqual({ status: 503, code: 'unavailable', dependency: 'postgres', unexpected: false });
    expect(mapped(new Error('Connection terminated unexpectedly'))).toEqual({ status: 503, code: 'unavailable', dependency: 'postgres', unexpected: false });
  });

  it('anything else stays an internal error, and a JetStream refusal that is not "not now" is not disguised as one', () => {
    expect(mapped(new Error('boom'))).toEqual({ status: 500, code: 'internal', dependency: undefined, unexpected: true });
    expect(mapped(new JetStreamApiError({ code: 400, err_code: 10071, description: 'wrong last sequence' }))).toEqual({ status: 500, code: 'internal', dependency: undefined, unexpected: true });
  });
});
