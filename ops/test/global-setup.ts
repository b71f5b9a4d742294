import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const MODSEC_SO = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';
const CRS_SETUP = '/etc/modsecurity/crs/crs-setup.conf';

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hasComposeV2(): boolean {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Prepares the machine, then a test certificate (see makeTestCertificate).
 * Installs what the ops tests drive for real when it is missing: Debian's nginx with the
 * ModSecurity module and the OWASP CRS, openssl for the test certificate, and PostgreSQL
 * client tools for the backup test. Runs as root on the dev/CI machines (Debian 12).
 */
export default function setup(): () => void {
  installMissing();
  return makeTestCertificate();
}

/**
 * One self-signed certificate for localhost/127.0.0.1 for every TLS test. Its path goes into
 * NODE_EXTRA_CA_CERTS before the test workers start, so Node clients in the tests (fetch, the
 * SDK, Socket.IO's WebSocket) trust it like a real certificate: no verification switched off.
 */
function makeTestCertificate(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'cc-test-ca-'));
  chmodSync(dir, 0o755);
  const cert = path.join(dir, 'fullchain.pem');
  const key = path.join(dir, 'privkey.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  chmodSync(key, 0o644); // nginx workers (nobody) need no access, but the master reads it as root or as this user
  process.env.OPS_TLS_CERT = cert;
  process.env.OPS_TLS_KEY = key;
  process.env.NODE_EXTRA_CA_CERTS = cert;
  return () => rmSync(dir, { recursive: true, force: true });
}

function installMissing(): void {
  const missing: string[] = [];
  if (!has('nginx')) missing.push('nginx');
  if (!existsSync(MODSEC_SO)) missing.push('libnginx-mod-http-modsecurity');
  if (!existsSync(CRS_SETUP)) missing.push('modsecurity-crs');
  if (!has('openssl')) missing.push('openssl');
  if (!has('pg_dump') || !has('pg_restore')) missing.push('postgresql-client');
  if (!has('envsubst')) missing.push('gettext-base');
  // `docker compose config` validates the compose files; without the v2 plugin (not packaged
  // for Debian 12) Debian's docker-compose 1.29 does.
  if (!hasComposeV2() && !has('docker-compose')) missing.push('docker-compose');
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
}
