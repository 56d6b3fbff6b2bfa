/* global jest */
// e2e tier: the whole stack as processes + headless Chromium
jest.setTimeout(240_000);
// every e2e env runs its own nats-server with a user per service (libs/testing createTestEnv)
process.env.CONCLAVE_TEST_NATS ??= 'auth';
