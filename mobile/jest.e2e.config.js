/** The end-to-end test: web export + real node + headless Chromium (Debian's) via playwright-core. */
module.exports = {
  displayName: 'e2e',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/tests/e2e/**/*.e2e.test.ts'],
  transform: { '\\.[jt]sx?$': 'babel-jest' },
  transformIgnorePatterns: ['node_modules/(?!(@noble)/)'],
  globalSetup: '<rootDir>/tests/e2e/globalSetup.ts',
  testTimeout: 180000,
};
