// Runs notification-service as a separate process for kill -9 tests: the real main path
// (config from the environment, createApp, listen), started with `node --conditions=source --import tsx`.
import { parseConfig } from '@cipherchat/service-kit';
import { configSchema, createApp } from '../../src/app.js';

const app = await createApp(parseConfig(configSchema, process.env));
await app.listen(0);
process.stdout.write('CHILD_READY\n');
