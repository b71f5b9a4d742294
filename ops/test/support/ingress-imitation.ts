import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, request, waitFor } from './net.js';
import { stopNginx } from './nginx.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const A = 'nginx.ingress.kubernetes.io/';

/** A running nginx configured the way ingress-nginx configures itself for our Ingresses. */
export interface IngressImitation {
  port: number;
  /** The rendered configuration (to show in a failing assertion). */
  conf: string;
  stop(): Promise<void>;
}

/**
 * The error locations ingress-nginx writes into a server for the codes of `custom-http-errors`
 * (controller v1.15.1, rootfs/etc/nginx/template/nginx.tmpl, template "CUSTOM_ERRORS"), with
 * `upstream_balancer` (its Lua balancer) replaced by the default-backend Service's address.
 */
function customErrorLocations(backend: string, codes: string[], errorsPort: number): string[] {
  return codes.map(
    (code) => `
    location @custom_${backend}_${code} {
      internal;
      proxy_intercept_errors off;
      proxy_set_header X-Code ${code};
      proxy_set_header X-Format $http_accept;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Request-ID $request_id;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header Host $host;
      rewrite (.*) / break;
      proxy_pass http://127.0.0.1:${errorsPort};
    }`,
  );
}

/**
 * One location per path of an Ingress, with the directives its annotations turn into (same
 * template): `client_max_body_size` (proxy-body-size), `limit_req ... burst=rps*multiplier
 * nodelay` (limit-rps), one `error_page CODE = @custom_...` per code of custom-http-errors, and
 * `proxy_intercept_errors on` only when disable-proxy-intercept-errors is not "true".
 */
function ingressLocations(
  ingress: Obj,
  ports: Record<string, number>,
  zones: string[],
  errorLocations: Set<string>,
  errorsPort: number,
): string {
  const a = (ingress.metadata.annotations ?? {}) as Record<string, string>;
  const codes = (a[`${A}custom-http-errors`] ?? '').split(',').filter(Boolean);
  const backend = a[`${A}default-backend`] ?? 'upstream-default-backend';
  const rps = Number(a[`${A}limit-rps`] ?? 0);
  const zone = `${String(ingress.metadata.name)}_rps`;
  if (rps > 0) zones.push(`limit_req_zone $binary_remote_addr zone=${zone}:1m rate=${rps}r/s;`);
  const burst = rps * Number(a[`${A}limit-burst-multiplier`] ?? 5);
  // One set per server, shared by the Ingresses of the host (buildCustomErrorLocationsPerServer).
  for (const l of customErrorLocations(backend, codes, errorsPort)) errorLocations.add(l);
  let out = '';
  for (const p of ingress.spec.rules[0].http.paths as Obj[]) {
    const service = String(p.backend.service.name);
    out += `
    location ${String(p.path)} {
      client_max_body_size ${a[`${A}proxy-body-size`] ?? '1m'};
      ${rps > 0 ? `limit_req zone=${zone} burst=${burst} nodelay;` : ''}
      ${codes.length > 0 && a[`${A}disable-proxy-intercept-errors`] !== 'true' ? 'proxy_intercept_errors on;' : ''}
      ${codes.map((c) => `error_page ${c} = @custom_${backend}_${c};`).join('\n      ')}
      proxy_http_version 1.1;
      proxy_connect_timeout 5s;
      proxy_pass http://127.0.0.1:${ports[service] ?? 9};
    }`;
  }
  return out;
}

/**
 * Starts Debian's nginx with the Ingresses rendered as ingress-nginx would, on one host: every
 * Ingress's paths, its error locations, and the controller ConfigMap settings docs/operations.md
 * asks for (`limit-req-status-code` and `limit-conn-status-code` 429). This is a hand reduction of
 * the controller's template to the directives our annotations touch, not the controller.
 * @param ingresses the Ingress objects of k8s/
 * @param ports the local port standing in for each Service (a missing one is a closed port)
 * @param errorsPort where the default-backend Service (the API error backend) listens
 * @returns the running nginx
 */
export async function startIngressImitation(
  ingresses: Obj[],
  ports: Record<string, number>,
  errorsPort: number,
): Promise<IngressImitation> {
  const base = mkdtempSync(path.join(tmpdir(), 'cc-ingress-'));
  chmodSync(base, 0o755);
  const run = path.join(base, 'run');
  mkdirSync(path.join(run, 'tmp'), { recursive: true, mode: 0o777 });
  chmodSync(path.join(run, 'tmp'), 0o777);
  const port = await freePort();
  const zones: string[] = [];
  const errorLocations = new Set<string>();
  // Ingresses with the same host share one server block; path order does not matter to nginx
  // (longest prefix wins).
  const locations =
    ingresses.map((i) => ingressLocations(i, ports, zones, errorLocations, errorsPort)).join('') +
    [...errorLocations].join('');
  const conf = `worker_processes 1;
pid ${run}/nginx.pid;
error_log ${run}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${run}/tmp/client_body;
  proxy_temp_path ${run}/tmp/proxy;
  fastcgi_temp_path ${run}/tmp/fastcgi;
  uwsgi_temp_path ${run}/tmp/uwsgi;
  scgi_temp_path ${run}/tmp/scgi;
  limit_req_status 429;
  limit_conn_status 429;
  ${zones.join('\n  ')}
  server {
    listen 127.0.0.1:${port};
    location = /healthz { return 200; }${locations}
  }
}
`;
  const confPath = path.join(base, 'nginx.conf');
  writeFileSync(confPath, conf);
  const child: ChildProcess = spawn('nginx', ['-p', run, '-c', confPath, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}\n${conf}`);
      return request(port, '/healthz', { timeoutMs: 1000 }).then(
        () => true,
        () => false,
      );
    },
    20_000,
    'the ingress imitation to listen',
  );
  return {
    port,
    conf: readFileSync(confPath, 'utf8'),
    stop: () => stopNginx(child, base),
  };
}
