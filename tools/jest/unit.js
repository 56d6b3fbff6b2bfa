/* global jest */
// unit tier: pure, milliseconds each (jest ignores testTimeout inside projects)
jest.setTimeout(5_000);
