// A service module for the thread host's tests (single-process.e2e.spec.ts): `start(env)` as every
// service's main.js exports it. FAKE_FAIL=config fails the boot with a configuration error;
// FAKE_CRASH_MS throws an uncaught error in the thread that long after boot.
const { ConfigError, defineCounter } = require('@conclave/service-kit');

exports.start = async (env) => {
  if (env.FAKE_FAIL === 'config') throw new ConfigError(['FAKE_SETTING: must be a number']);
  defineCounter({ name: 'conclave_fake_boots_total', help: 'boots of the fake service', labelNames: ['service'] }).inc({ service: 'fake' });
  if (env.FAKE_CRASH_MS) setTimeout(() => { throw new Error('the fake service crashed'); }, Number(env.FAKE_CRASH_MS));
  const alive = setInterval(() => undefined, 1_000); // a handle a real service would hold (a connection)
  return {
    async close() {
      clearInterval(alive);
    },
  };
};
