/* global jest */
// e2e tier: the whole stack as processes + headless Chromium
jest.setTimeout(240_000);
