/**
 * Three projects: the protocol library in plain Node (WebCrypto, real sockets, a real Python
 * node); the chat session (reconnect, catch-up, outbox) against a real node that the tests
 * restart; and the app's components under jest-expo with @testing-library/react-native.
 */
const esmPackages = [
  '@noble',
  '((jest-)?react-native|@react-native(-community)?)',
  'expo(nent)?',
  '@expo(nent)?/.*',
  '@expo-google-fonts/.*',
  'react-navigation',
  '@react-navigation/.*',
  'react-native-svg',
];
const transformIgnorePatterns = [`node_modules/(?!(${esmPackages.join('|')}))`];

module.exports = {
  projects: [
    {
      displayName: 'protocol',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/tests/protocol/**/*.test.ts'],
      transform: { '\\.[jt]sx?$': 'babel-jest' },
      transformIgnorePatterns,
    },
    {
      displayName: 'session',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/tests/session/**/*.test.ts'],
      transform: { '\\.[jt]sx?$': 'babel-jest' },
      transformIgnorePatterns,
    },
    {
      displayName: 'app',
      preset: 'jest-expo',
      testMatch: ['<rootDir>/tests/app/**/*.test.ts?(x)'],
      transformIgnorePatterns,
    },
  ],
  testTimeout: 30000,
};
