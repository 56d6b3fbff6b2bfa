/* global jest */
// int tier: one component against real NATS + Postgres
jest.setTimeout(60_000);
