import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports the domain layer must never use: it is pure logic, no I/O frameworks. */
const domainForbidden = [
  'express',
  'typeorm',
  'amqplib',
  'socket.io',
  'ioredis',
  'pg',
  'nodemailer',
  '@cipherchat/service-kit',
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      'bench/results/**',
      'e2e/artifacts/**',
      'web-client/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'Use crypto randomness.' },
      ],
    },
  },
  {
    files: ['**/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: domainForbidden.map((name) => ({ name, message: 'domain/ stays free of I/O frameworks; inject a port instead.' })),
          patterns: [
            // subpath imports (`typeorm/...`, `express/lib/...`, `amqplib/callback_api.js`)
            {
              // service-kit's error classes are plain Error subclasses: use cases throw them
              group: [...domainForbidden.map((name) => `${name}/**`), '!@cipherchat/service-kit/errors'],
              message: 'domain/ stays free of I/O frameworks; inject a port instead.',
            },
            { group: ['**/http/**', '**/store/**', '**/events/**', '**/realtime/**'], message: 'domain/ must not depend on outer layers.' },
          ],
        },
      ],
    },
  },
  {
    // chat-service's entry points reach the store only through use cases (domain/), which get
    // the repositories as ports; app.ts (the composition root) wires store/ into them.
    files: ['chat-service/src/{http,realtime,events,jobs}/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/store/**'], message: 'entry points reach store/ only through use cases in domain/.' }] },
      ],
    },
  },
);
