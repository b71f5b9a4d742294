import { handleSignals, loadConfig } from '@cipherchat/service-kit';
import { configSchema } from './config.js';
import { createApp } from './app.js';

const config = loadConfig(configSchema);
const app = await createApp(config);
await app.listen(config.PORT);
handleSignals(app.logger, () => app.close());
