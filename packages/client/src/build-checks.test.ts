import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type Rollup } from 'vite';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);

describe('runs in the browser and in Node', () => {
  it('when the SDK is bundled by Vite for the browser, then it builds with no Node built-ins and with the patched library', async () => {
    const warnings: string[] = [];
    const result = await build({
      root,
      logLevel: 'silent',
      configFile: false,
      resolve: { conditions: ['source', 'browser', 'module', 'import', 'default'] },
      build: {
        write: false,
        minify: false,
        lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'sdk' },
        rollupOptions: { onwarn: (w) => void warnings.push(String(w.message)) },
      },
    });
    const outputs = (Array.isArray(result) ? result : [result]).flatMap((o) => (o as Rollup.RollupOutput).output);
    const code = outputs.map((o) => (o.type === 'chunk' ? o.code : '')).join('\n');
    expect(code.length).toBeGreaterThan(100_000);
    expect(code).not.toMatch(/from ['"]node:/);
    // processV3 in what browsers run awaits the trust check (the bundler may inline the const).
    const processV3 = code.slice(code.indexOf('processV3('), code.indexOf('processV3(') + 600);
    expect(processV3).toMatch(/yield this\.storage\.isTrustedIdentity\(this\.remoteAddress\.name/);
    expect(processV3).not.toMatch(/[^d] this\.storage\.isTrustedIdentity\(/);
    // Only the known, harmless externalisation warnings of the curve25519 asm.js loader.
    for (const w of warnings) expect(w).toMatch(/externalized for browser compatibility|curve25519|eval/i);
  }, 120_000);

  it('when protocol/ is compiled without the DOM library, then it type-checks (it needs only WebCrypto and ES2023)', async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const { stdout } = await run(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.protocol.json')], { cwd: root }).catch(
      (err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }),
    );
    expect(stdout).toBe('');
  }, 120_000);
});
