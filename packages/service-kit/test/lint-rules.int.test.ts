import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('layering lint rule', () => {
  const eslint = new ESLint({ cwd: root });

  it('when domain code imports an I/O framework or an outer layer, then ESLint reports it', async () => {
    const code = "import express from 'express';\nimport { x } from '../store/user.repository.js';\nexport const y = [express, x];\n";
    const [result] = await eslint.lintText(code, { filePath: `${root}user-service/src/domain/example.ts` });
    const messages = result?.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message) ?? [];
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/domain\/ stays free of I\/O frameworks/);
  });

  it('when domain code imports a subpath of a forbidden package, then ESLint reports each one', async () => {
    const specifiers = ['typeorm/index.js', 'express/lib/router/index.js', 'amqplib/callback_api.js', 'socket.io/dist/index.js', 'pg/lib/client.js', '@cipherchat/service-kit/testing'];
    const code = specifiers.map((s, i) => `import * as m${i} from '${s}';\n`).join('') + `export const y = [${specifiers.map((_, i) => `m${i}`).join(', ')}];\n`;
    const [result] = await eslint.lintText(code, { filePath: `${root}user-service/src/domain/example.ts` });
    const messages = result?.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message) ?? [];
    expect(messages).toHaveLength(specifiers.length);
    for (const m of messages) expect(m).toMatch(/domain\/ stays free of I\/O frameworks/);
  });

  it('when domain code imports a package whose name only starts like a forbidden one, then it is allowed', async () => {
    const code = "import * as p from 'pg-protocol';\nimport * as e from 'express-rate-limit';\nexport const y = [p, e];\n";
    const [result] = await eslint.lintText(code, { filePath: `${root}user-service/src/domain/example.ts` });
    expect(result?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });

  it('when the same imports sit outside domain/, then they are allowed', async () => {
    const code = "import express from 'express';\nexport const y = express;\n";
    const [result] = await eslint.lintText(code, { filePath: `${root}user-service/src/http/example.ts` });
    expect(result?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });

  it('when domain code imports service-kit\'s error classes, then it is allowed', async () => {
    const code = "import { AppError } from '@cipherchat/service-kit/errors';\nexport const y = AppError;\n";
    const [result] = await eslint.lintText(code, { filePath: `${root}chat-service/src/domain/example.ts` });
    expect(result?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });

  it('when a chat-service entry point imports the store, then ESLint reports it', async () => {
    const code = "import { roleOf } from '../store/conversation.repository.js';\nexport const y = roleOf;\n";
    for (const layer of ['http', 'realtime', 'events', 'jobs']) {
      const [result] = await eslint.lintText(code, { filePath: `${root}chat-service/src/${layer}/example.ts` });
      const messages = result?.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message) ?? [];
      expect(messages, layer).toHaveLength(1);
      expect(messages[0]).toMatch(/only through use cases/);
    }
  });

  it('when chat-service\'s composition root imports the store, then it is allowed', async () => {
    const code = "import { roleOf } from './store/conversation.repository.js';\nexport const y = roleOf;\n";
    const [result] = await eslint.lintText(code, { filePath: `${root}chat-service/src/app.ts` });
    expect(result?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });
});
