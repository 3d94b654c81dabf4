// Every emulator the suite starts is strict unless a test says otherwise (issue 12): the workflows are proven
// against the leanest answers the real API may give. Tests of the fuller answers users get from the embedded
// emulator pass `strict: false` themselves. Set here, in the parent process, so jest's workers and every child
// process they spawn inherit it; THALASSA_EMULATOR_STRICT=0 runs the suite against the fuller answers.
process.env.THALASSA_EMULATOR_STRICT ??= '1';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 60_000,
};
