import { handleSignals, loadConfig } from '@cipherchat/service-kit';
import { createApp } from './app.js';
import { configSchema } from './config.js';

// Composition root: a bad SMTP_URL, MAIL_FROM or secret stops the start with every problem listed (exit 78).
const config = loadConfig(configSchema);
const app = await createApp(config);
handleSignals(app.logger, () => app.close());
await app.listen(config.PORT);
