import { TRANSPORT_TROUBLE } from './orchestrator.client';

describe('orchestrator client: transport failures are a 503, not an internal error', () => {
  it("recognises what Nest's NATS client reports while NATS restarts", () => {
    for (const text of ['Error: Connection lost. Trying to reconnect...', 'NatsError: type: "disconnect".', 'no responders', 'CONNECTION_CLOSED: connection closed', 'request timed out']) {
      expect({ text, transport: TRANSPORT_TROUBLE.test(text) }).toEqual({ text, transport: true });
    }
  });
  it('leaves other failures alone', () => {
    expect(TRANSPORT_TROUBLE.test('cannot read properties of undefined')).toBe(false);
  });
});
