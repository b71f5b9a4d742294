import { handleSignals, loadConfig } from '@cipherchat/service-kit';
import { configSchema } from './config.js';
import { createApp } from './app.js';

// Composition root: config (fail fast, exit 78), app, listen, signals.
const config = loadConfig(configSchema);
const app = await createApp(config);
handleSignals(app.logger, () => app.close());
await app.listen(config.PORT);
