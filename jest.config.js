// Three tiers by file suffix (STYLE.md §8). Sources of the workspace libs are mapped directly so
// tests never need a prior build; Nest 12 (ESM-only) is transformed to CommonJS by swc.
const fs = require('node:fs');
const swc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swc.$schema;
// the web's components (.tsx, React's automatic runtime); their specs opt into jsdom per file
const swcTsx = { ...swc, swcrc: false, jsc: { ...swc.jsc, parser: { ...swc.jsc.parser, tsx: true }, transform: { ...swc.jsc.transform, react: { runtime: 'automatic' } } } };
const esmOnly = ['@nestjs', 'file-type', 'strtok3', 'token-types', '@tokenizer', 'uint8array-extras', 'load-esm', '@x0k', '@tanstack/react-table', '@tanstack/table-core', '@tanstack/store', '@tanstack/react-store'];
const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.tsx$': ['@swc/jest', swcTsx], '^.+\\.(t|j|mj)sx?$': ['@swc/jest', { ...swc, swcrc: false }] },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper: {
    '^@conclave/(contracts|event-log|read-models|service-kit|testing|worker-kit)$': '<rootDir>/libs/$1/src/index.ts',
    // a component's own stylesheet (imported so the bundler splits it with the component's chunk)
    '\\.css$': '<rootDir>/web/src/test/style-stub.cjs',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.*/dist/'],
};
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.spec.ts', '<rootDir>/**/*.unit.spec.tsx'], setupFilesAfterEnv: [`${__dirname}/tools/jest/unit.js`] },
    { ...base, displayName: 'int', testMatch: ['<rootDir>/**/*.int.spec.ts'], setupFilesAfterEnv: [`${__dirname}/tools/jest/int.js`] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/**/*.e2e.spec.ts'], setupFilesAfterEnv: [`${__dirname}/tools/jest/e2e.js`] },
  ],
};
