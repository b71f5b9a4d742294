/**
 * Prints fresh user-service secrets as `KEY='value'` lines (for .env files and the dev start
 * script): `npx tsx user-service/src/scripts/generate-secrets.ts >> user-service/.env`.
 */
import { generateSecrets } from '../testing.js';

const secrets = await generateSecrets();
for (const [key, value] of Object.entries(secrets)) {
  process.stdout.write(`${key}='${value}'\n`);
}
