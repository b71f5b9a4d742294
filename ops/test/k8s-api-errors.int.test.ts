import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { expectJsonError } from './support/edge-errors.js';
import { startIngressImitation, type IngressImitation } from './support/ingress-imitation.js';
import { freePort, request } from './support/net.js';
import { REPO_ROOT, startNginx, type NginxHandle } from './support/nginx.js';
import { startEchoService, type EchoService } from './support/upstreams.js';

// On Kubernetes the ingress controller, not the edge templates, answers the API's limits and
// failures. These tests check that the manifests route those answers to the API error backend,
// that the backend answers exactly as the edge's @api_error does, and, on an nginx configured as
// ingress-nginx configures itself for these Ingresses, that the controller's own errors come out
// as JSON while the services' own errors pass unchanged.

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const A = 'nginx.ingress.kubernetes.io/';
const TEMPLATE = 'nginx/api-errors.conf.template';
const text = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

function k8sObjects(): Obj[] {
  const dir = path.join(REPO_ROOT, 'k8s');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(text(`k8s/${f}`)).map((d) => d.toJS() as Obj))
    .filter((d) => d !== null);
}

/** The codes the edge templates send to @api_error (one list, repeated on each API location). */
function edgeErrorCodes(): string[] {
  const lists = [...text('nginx/dev.conf.template').matchAll(/error_page ([\d ]+) @api_error;/g)];
  expect(new Set(lists.map((m) => m[1]))).toHaveLength(1);
  return lists[0]![1]!.split(' ');
}

/** The two `map $status ...` blocks of a template (code and message of each status). */
function statusMaps(template: string): string {
  const maps = [...text(template).matchAll(/ {2}map \$status \$edge_error_\w+ \{[^}]*\}/g)];
  expect(maps, template).toHaveLength(2);
  return maps.map((m) => m[0]).join('\n');
}

/** The body @api_error gives for a status, read from the dev template's maps. */
function edgeBody(status: string): unknown {
  const maps = statusMaps('nginx/dev.conf.template');
  const pick = (name: string) => {
    const block = new RegExp(`\\$edge_error_${name} \\{([^}]*)\\}`).exec(maps)![1]!;
    const entry = (key: string) => new RegExp(`^\\s*${key} "?([^";]+)"?;`, 'm').exec(block)?.[1];
    return entry(status) ?? entry('default');
  };
  return { error: { code: pick('code'), message: pick('message'), details: null } };
}

const isApi = (p: string) => p.startsWith('/api/') || p.startsWith('/socket.io/');

describe('Kubernetes: the ingress controller answers API errors in the JSON shape', () => {
  const objects = k8sObjects();
  const ingresses = objects.filter((o) => o.kind === 'Ingress');

  it("when the Ingresses are read, then each API one sends the controller's own errors to the API error backend and leaves the services' errors alone; the web Ingress keeps HTML", () => {
    const codes = edgeErrorCodes();
    expect(codes).toEqual(expect.arrayContaining(['413', '429', '502', '503', '504']));
    const apiIngresses = ingresses.filter((i) =>
      (i.spec.rules[0].http.paths as Obj[]).some((p) => isApi(String(p.path))),
    );
    expect(apiIngresses.length).toBeGreaterThanOrEqual(4);
    for (const ing of ingresses) {
      const name = String(ing.metadata.name);
      const paths = (ing.spec.rules[0].http.paths as Obj[]).map((p) => String(p.path));
      const a = (ing.metadata.annotations ?? {}) as Record<string, string>;
      // Annotations apply per Ingress: an API path and a page path never share one.
      expect(paths.every(isApi) || !paths.some(isApi), name).toBe(true);
      if (paths.every(isApi)) {
        expect(a[`${A}custom-http-errors`]?.split(','), name).toEqual(codes);
        // The controller's validator (customhttperrors/main.go) drops a value it does not match.
        expect(a[`${A}custom-http-errors`], name).toMatch(/^(?:[4,5]\d{2},?)*$/);
        expect(a[`${A}disable-proxy-intercept-errors`], name).toBe('true');
        expect(a[`${A}default-backend`], name).toBe('api-errors');
      } else {
        expect(a[`${A}custom-http-errors`], name).toBeUndefined();
        expect(a[`${A}default-backend`], name).toBeUndefined();
      }
      // Snippets are off on a default install (allow-snippet-annotations): none is needed.
      expect(
        Object.keys(a).filter((k) => k.includes('snippet')),
        name,
      ).toEqual([]);
    }
  });

  it('when the default backend is followed, then it is the api-errors container of the edge image, which the controller may reach', () => {
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'api-errors');
    // ingress-nginx uses the Service's first port.
    const target = service?.spec.ports[0].targetPort as string;
    const pods = objects
      .filter((o) => o.kind === 'Deployment' && selectsPod(service!.spec.selector, o))
      .flatMap((d) => d.spec.template.spec.containers as Obj[]);
    const container = pods.find((c) => (c.ports as Obj[]).some((p) => p.name === target));
    expect(container?.image).toBe('cipherchat/edge');
    const env = Object.fromEntries((container!.env as Obj[]).map((e) => [e.name, e.value]));
    expect(env.TEMPLATE).toBe(`/etc/cipherchat/${TEMPLATE}`);
    const port = (container!.ports as Obj[]).find((p) => p.name === target)!.containerPort;
    expect(env.NGINX_PORT).toBe(String(port));
    expect(text('nginx/Dockerfile')).toMatch(
      new RegExp(`^COPY .*\\b${TEMPLATE.replace('.', '\\.')}\\b.* /etc/cipherchat/nginx/$`, 'm'),
    );
    const fromIngress = objects.find(
      (o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'allow-from-ingress',
    );
    expect((fromIngress?.spec.ingress[0].ports as Obj[]).map((p) => p.port)).toContain(port);
  });

  it("when the backend's status maps are compared with the edge templates', then they are the same text", () => {
    const edge = statusMaps('nginx/dev.conf.template');
    expect(statusMaps('nginx/prod.conf.template')).toBe(edge);
    expect(statusMaps(TEMPLATE)).toBe(edge);
  });

  describe('with the error backend and an nginx set up as ingress-nginx sets itself up (real Debian nginx)', () => {
    let backend: NginxHandle;
    let ingress: IngressImitation;
    let user: EchoService;
    let chat: EchoService;

    beforeAll(async () => {
      backend = await startNginx(TEMPLATE, {});
      user = await startEchoService('user-service');
      chat = await startEchoService('chat-service');
      // notification-service and web: closed ports (a Service whose pods refuse connections)
      ingress = await startIngressImitation(
        ingresses,
        { 'user-service': user.port, 'chat-service': chat.port, web: await freePort() },
        backend.port,
      );
    });

    afterAll(async () => {
      await ingress?.stop();
      await backend?.stop();
      await user?.close();
      await chat?.close();
    });

    it("when the controller sends a code, then the backend answers that status with the edge's JSON body", async () => {
      for (const code of edgeErrorCodes()) {
        const res = await request(backend.port, '/', { headers: { 'x-code': code } });
        expect(res.status, code).toBe(Number(code));
        expect(res.headers['content-type'], code).toBe('application/json');
        expect(JSON.parse(res.text), code).toEqual(edgeBody(code));
        expect(res.headers['x-content-type-options']).toBe('nosniff');
      }
      // A path whose Service has no ready pod: the whole request arrives, with X-Code 503.
      const whole = await request(backend.port, '/api/chat/attachments', {
        method: 'POST',
        body: Buffer.alloc(3 * 1024 * 1024, 7),
        headers: { 'x-code': '503' },
      });
      expectJsonError(whole, 503, 'unavailable', 'no ready pod');
    });

    it('when the controller refuses or fails a request itself, then the client reads the JSON shape', async () => {
      const twoMb = Buffer.alloc(2 * 1024 * 1024, 1);
      const tooBig = await request(ingress.port, '/api/user/me', { method: 'PUT', body: twoMb });
      expectJsonError(tooBig, 413, 'payload_too_large', `/api/user/me\n${ingress.conf}`);
      expect(user.seen.some((s) => s.bytes >= twoMb.length)).toBe(false);
      const down = await request(ingress.port, '/api/notifications/preferences');
      expectJsonError(down, 502, 'unavailable', '/api/notifications/preferences');
      const flood = await Promise.all(
        Array.from({ length: 120 }, () =>
          request(ingress.port, '/api/user/auth/login/start', { method: 'POST', body: '{}' }),
        ),
      );
      const limited = flood.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      for (const r of limited) expectJsonError(r, 429, 'rate_limited', 'flood');
      expect(flood.some((r) => r.status === 200)).toBe(true);
      // The web client's pages keep the controller's HTML.
      const page = await request(ingress.port, '/conversations');
      expect(page.status).toBe(502);
      expect(page.headers['content-type']).toBe('text/html');
    });

    it('when a service answers an error itself, then it passes unchanged', async () => {
      for (const [p, status] of [
        ['/api/user/me', 429],
        ['/api/user/me', 503],
        ['/api/chat/attachments', 413],
        ['/api/chat/conversations', 502],
        ['/socket.io/', 503],
      ] as const) {
        const res = await request(ingress.port, `${p}?status=${status}`);
        expect(res.status, p).toBe(status);
        expect(JSON.parse(res.text), p).toEqual({
          error: {
            code: 'from_service',
            message: p.startsWith('/api/user/') ? 'user-service' : 'chat-service',
            details: { status: String(status) },
          },
        });
      }
    });
  });
});

function selectsPod(selector: Record<string, string>, deployment: Obj): boolean {
  const labels = deployment.spec.template.metadata.labels as Record<string, string>;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
