import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { REPO_ROOT } from './support/nginx.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const K8S = path.join(REPO_ROOT, 'k8s');
const SERVICES = ['user-service', 'chat-service', 'notification-service'] as const;

function k8sDocs(): Array<{ file: string; doc: Obj }> {
  return readdirSync(K8S)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(K8S, file), 'utf8')).map((d) => {
        if (d.errors.length > 0)
          throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
        return { file, doc: d.toJS() as Obj };
      }),
    )
    .filter((d) => d.doc !== null);
}

/** Labels of a pod, and of its namespace when it is not in ours. */
interface Peer {
  pod?: Record<string, string>;
  namespace?: Record<string, string>;
  /** Outside the cluster (managed database, SMTP relay, Cloudinary). */
  external?: boolean;
}

function selects(selector: Obj | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  if (!labels) return false;
  for (const [k, v] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>))
    if (labels[k] !== v) return false;
  for (const e of (selector.matchExpressions ?? []) as Obj[]) {
    const has = e.key in labels;
    const ok =
      e.operator === 'In'
        ? has && (e.values as string[]).includes(labels[e.key]!)
        : e.operator === 'NotIn'
          ? !has || !(e.values as string[]).includes(labels[e.key]!)
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

/** Whether one `from`/`to` entry of a rule matches a peer (same-namespace pods when no namespaceSelector). */
function peerMatches(entry: Obj, peer: Peer): boolean {
  if (entry.ipBlock) return peer.external === true;
  if (peer.external) return false;
  if (entry.namespaceSelector) {
    if (!selects(entry.namespaceSelector, peer.namespace ?? OUR_NAMESPACE)) return false;
    return selects(entry.podSelector, peer.pod ?? {});
  }
  return peer.namespace === undefined && selects(entry.podSelector, peer.pod ?? {});
}

const OUR_NAMESPACE = { 'kubernetes.io/metadata.name': 'cipherchat' };

/**
 * Evaluates the NetworkPolicies as Kubernetes does: a pod selected by no policy of a direction
 * is open in that direction; once selected, a flow must match some rule (peer and port).
 */
function allowed(
  policies: Obj[],
  direction: 'Ingress' | 'Egress',
  pod: Record<string, string>,
  peer: Peer,
  port: number,
): boolean {
  const applying = policies.filter(
    (p) => (p.spec.policyTypes as string[]).includes(direction) && selects(p.spec.podSelector, pod),
  );
  if (applying.length === 0) return true;
  const key = direction === 'Ingress' ? 'ingress' : 'egress';
  const peersKey = direction === 'Ingress' ? 'from' : 'to';
  return applying.some((p) =>
    ((p.spec[key] ?? []) as Obj[]).some(
      (rule) =>
        (rule.ports === undefined ||
          (rule.ports as Obj[]).some((r) => r.port === port && (r.protocol ?? 'TCP') === 'TCP')) &&
        (rule[peersKey] === undefined ||
          (rule[peersKey] as Obj[]).some((entry) => peerMatches(entry, peer))),
    ),
  );
}

const DEFAULT_PORTS: Record<string, number> = {
  'postgres:': 5432,
  'postgresql:': 5432,
  'amqp:': 5672,
  'amqps:': 5671,
  'redis:': 6379,
  'rediss:': 6379,
  'smtp:': 587,
  'smtps:': 465,
  'http:': 80,
  'https:': 443,
  'cloudinary:': 443,
};

function composeCli(): string[] | null {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(cmd[0]!, [...cmd.slice(1), 'version'], { stdio: 'ignore' });
      return cmd;
    } catch {
      /* try the next */
    }
  }
  return null;
}

describe('Kubernetes manifests', () => {
  it('when every file in k8s/ is parsed, then each document is valid YAML with apiVersion, kind and name', () => {
    const docs = k8sDocs();
    expect(docs.length).toBeGreaterThan(15);
    for (const { file, doc } of docs) {
      if (file === 'kustomization.yaml') continue;
      expect(doc.apiVersion, file).toBeTruthy();
      expect(doc.kind, file).toBeTruthy();
      expect(doc.metadata?.name, file).toMatch(/^[a-z0-9-]+$/);
    }
  });

  it('when the kustomization is read, then every resource it lists exists and no Secret is inlined anywhere', () => {
    const kustomization = parse(readFileSync(path.join(K8S, 'kustomization.yaml'), 'utf8')) as Obj;
    for (const r of kustomization.resources as string[])
      expect(existsSync(path.join(K8S, r)), r).toBe(true);
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect(new Set(kustomization.resources)).toEqual(new Set(files));
    expect(kustomization.secretGenerator).toBeUndefined();
    const docs = k8sDocs();
    expect(docs.filter(({ doc }) => doc.kind === 'Secret')).toEqual([]);
  });

  it('when the Deployments are read, then they run non-root with a read-only root, probes and resources', () => {
    const deployments = k8sDocs().filter(({ doc }) => doc.kind === 'Deployment');
    expect(deployments.map(({ doc }) => doc.metadata.name).sort()).toEqual(
      [...SERVICES, 'web'].sort(),
    );
    for (const { doc } of deployments) {
      const pod = doc.spec.template.spec;
      const name = doc.metadata.name as string;
      expect(pod.securityContext.runAsNonRoot, name).toBe(true);
      expect(pod.securityContext.runAsUser, name).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken, name).toBe(false);
      for (const c of pod.containers as Obj[]) {
        expect(c.securityContext.readOnlyRootFilesystem, name).toBe(true);
        expect(c.securityContext.allowPrivilegeEscalation, name).toBe(false);
        expect(c.securityContext.capabilities.drop, name).toEqual(['ALL']);
        expect(
          c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory,
          name,
        ).toBeTruthy();
        expect(c.livenessProbe.httpGet.path, name).toBe(
          name === 'web' ? '/nginx-health' : '/health',
        );
        expect(c.readinessProbe.httpGet.path, name).toBe(
          name === 'web' ? '/nginx-health' : '/ready',
        );
        if (name !== 'web') {
          expect(c.envFrom, name).toEqual([{ secretRef: { name: `${name}-env` } }]);
          expect(JSON.stringify(c.env ?? [])).not.toMatch(/PASSWORD|SECRET|PRIVATE|OPAQUE/);
        }
      }
    }
  });

  it('when chat-service scaling and routing are read, then an HPA targets it and its Ingress keeps WebSockets and polling working', () => {
    const docs = k8sDocs().map((d) => d.doc);
    const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler');
    expect(hpa?.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'chat-service' });
    expect(hpa?.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const chatIngress = docs.find(
      (d) => d.kind === 'Ingress' && d.metadata.name === 'cipherchat-chat',
    );
    const a = chatIngress?.metadata.annotations as Record<string, string>;
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(
      3600,
    );
    expect(a['nginx.ingress.kubernetes.io/upstream-hash-by']).toBe('$remote_addr');
    const paths = (chatIngress?.spec.rules[0].http.paths as Obj[]).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['/socket.io/', '/api/chat/']));
    const routed = new Map<string, string>();
    for (const ing of docs.filter((d) => d.kind === 'Ingress')) {
      for (const p of ing.spec.rules[0].http.paths as Obj[])
        routed.set(p.path, p.backend.service.name);
    }
    expect(Object.fromEntries(routed)).toMatchObject({
      '/api/user/': 'user-service',
      '/api/user/auth/': 'user-service',
      '/api/chat/': 'chat-service',
      '/api/chat/attachments': 'chat-service',
      '/socket.io/': 'chat-service',
      '/api/notifications/': 'notification-service',
      '/': 'web',
    });
  });

  it('when the NetworkPolicies are read, then the namespace denies by default and the ingress controller reaches the services', () => {
    const policies = k8sDocs()
      .filter(({ doc }) => doc.kind === 'NetworkPolicy')
      .map(({ doc }) => doc);
    const deny = policies.find((p) => p.metadata.name === 'default-deny');
    expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const fromIngress = policies.find((p) => p.metadata.name === 'allow-from-ingress');
    expect(fromIngress?.spec.ingress[0].ports.map((p: Obj) => p.port)).toEqual([
      3001, 3002, 3003, 8080, 8081,
    ]);
  });

  it('when every flow the generated env files need is listed, then the NetworkPolicies allow each one both ways', () => {
    // The env files exactly as an operator makes them for k8s (docs/operations.md section 9).
    const dir = mkdtempSync(path.join(tmpdir(), 'cc-k8s-env-'));
    const flows: Array<{ from: string; to: string; port: number; why: string }> = [];
    try {
      const secrets = path.join(dir, 'app_secrets');
      writeFileSync(
        secrets,
        readFileSync(path.join(REPO_ROOT, 'docker-secrets/app_secrets.example'), 'utf8') +
          'CLOUDINARY_URL=cloudinary://key:secret@cloud\n',
      );
      execFileSync('bash', [path.join(REPO_ROOT, 'scripts/generate-envs.sh'), secrets, dir], {
        env: {
          ...process.env,
          SECRETS_CHOWN: '0',
          DB_HOST: 'postgres.db.svc',
          AMQP_HOST: 'rabbitmq.mq.svc',
          REDIS_HOST: 'redis.cache.svc',
          USER_SERVICE_HOST: 'user-service.cipherchat.svc',
        },
        stdio: 'pipe',
      });
      for (const service of SERVICES) {
        const env = readFileSync(path.join(dir, service, 'app.env'), 'utf8');
        for (const m of env.matchAll(/^([A-Z_]+_URL)='?([a-z]+:\/\/[^'\n]*)'?$/gm)) {
          if (m[1] === 'PUBLIC_BASE_URL') continue; // browsers', not a flow of the pod
          const url = new URL(m[2]!);
          const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol];
          expect(port, `${service} ${m[1]}`).toBeDefined();
          // A name of one of our Services (bare or <name>.cipherchat.svc...) is a pod here.
          const [name, ns] = url.hostname.split('.');
          const inside =
            (SERVICES as readonly string[]).includes(name!) &&
            (ns === undefined || ns === 'cipherchat');
          flows.push({ from: service, to: inside ? name! : 'external', port: port!, why: m[1]! });
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Flows that are not in the env files: the ingress controller and Prometheus reach every
    // service's port, every pod resolves names.
    const ports = { 'user-service': 3001, 'chat-service': 3002, 'notification-service': 3003 };
    expect(flows).toEqual(
      expect.arrayContaining([
        { from: 'chat-service', to: 'user-service', port: 3001, why: 'JWKS_URL' },
        { from: 'notification-service', to: 'user-service', port: 3001, why: 'JWKS_URL' },
        { from: 'notification-service', to: 'external', port: 587, why: 'SMTP_URL' },
      ]),
    );
    const policies = k8sDocs()
      .filter(({ doc }) => doc.kind === 'NetworkPolicy')
      .map(({ doc }) => doc);
    const labels = (name: string) => ({
      'app.kubernetes.io/name': name,
      'app.kubernetes.io/part-of': 'cipherchat',
    });
    const missing: string[] = [];
    for (const f of flows) {
      if (
        !allowed(
          policies,
          'Egress',
          labels(f.from),
          f.to === 'external' ? { external: true } : { pod: labels(f.to) },
          f.port,
        )
      )
        missing.push(`${f.from} egress to ${f.to}:${f.port} (${f.why})`);
      if (
        f.to !== 'external' &&
        !allowed(policies, 'Ingress', labels(f.to), { pod: labels(f.from) }, f.port)
      )
        missing.push(`${f.to} ingress from ${f.from}:${f.port} (${f.why})`);
    }
    for (const [service, port] of Object.entries(ports)) {
      for (const ns of ['ingress-nginx', 'monitoring'])
        if (
          !allowed(
            policies,
            'Ingress',
            labels(service),
            { namespace: { 'kubernetes.io/metadata.name': ns }, pod: {} },
            port,
          )
        )
          missing.push(`${service} ingress from ${ns}:${port}`);
      if (
        !allowed(
          policies,
          'Egress',
          labels(service),
          {
            namespace: { 'kubernetes.io/metadata.name': 'kube-system' },
            pod: { 'k8s-app': 'kube-dns' },
          },
          53,
        )
      )
        missing.push(`${service} egress to DNS`);
    }
    expect(missing).toEqual([]);
    // And nothing else: a service that needs no other service is not reachable from one.
    expect(
      allowed(
        policies,
        'Ingress',
        labels('chat-service'),
        { pod: labels('notification-service') },
        3002,
      ),
    ).toBe(false);
    expect(
      allowed(policies, 'Egress', labels('user-service'), { pod: labels('chat-service') }, 3002),
    ).toBe(false);
  });
});

describe('docker compose files', () => {
  const base = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as Obj;
  const prod = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.prod.yml'), 'utf8'), {
    merge: true,
  }) as Obj;

  it('when the base file is read, then admin UIs and the dev edge publish on 127.0.0.1 only and secrets are files, not values', () => {
    for (const [name, svc] of Object.entries(base.services as Record<string, Obj>)) {
      for (const port of (svc.ports ?? []) as string[])
        expect(port, name).toMatch(/^127\.0\.0\.1:/);
      for (const [key, value] of Object.entries(
        (svc.environment ?? {}) as Record<string, string>,
      )) {
        if (/PASSWORD|SECRET|PRIVATE|OPAQUE/.test(key))
          expect(key, `${name} ${key}=${value}`).toMatch(/_FILE$/);
      }
    }
    expect(base.services.pgadmin.environment.PGADMIN_SERVER_JSON_FILE).toBe(
      '/pgadmin4/servers.json',
    );
    expect(base.services.postgres.image).toMatch(/^postgres:17/);
    expect(base.services.postgres.volumes[0]).toBe('pgdata:/var/lib/postgresql/data');
    expect(base.services.postgres.healthcheck.test.join(' ')).toContain('pg_isready');
  });

  it('when the services start, then they wait for the setup job and read the env file it writes', () => {
    expect(base.services.setup.entrypoint.join(' ')).toContain('scripts/generate-envs.sh');
    for (const name of SERVICES) {
      const svc = base.services[name] as Obj;
      expect(svc.depends_on.setup.condition).toBe('service_completed_successfully');
      expect(svc.command[0]).toBe('--env-file=/run/secrets/cipherchat/app.env');
      expect(svc.volumes).toContain(`./docker-secrets/env/${name}:/run/secrets/cipherchat:ro`);
      expect(svc.read_only).toBe(true);
    }
    const servers = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'ops/pgadmin/servers.json'), 'utf8'),
    ) as Obj;
    expect(servers.Servers['1']).toMatchObject({
      Host: 'postgres',
      Port: 5432,
      MaintenanceDB: 'chat_db',
    });
  });

  it('when the prod file is read, then nginx serves TLS on 443 with restart policies and limits on every service', () => {
    expect(prod.services.nginx.ports).toEqual(['80:80', '443:443']);
    expect(prod.services.nginx.environment.TEMPLATE).toContain('prod.conf.template');
    for (const name of [...SERVICES, 'postgres', 'rabbitmq', 'redis', 'nginx']) {
      expect(prod.services[name].restart, name).toMatch(/always|unless-stopped/);
      expect(prod.services[name].deploy.resources.limits.memory, name).toBeTruthy();
    }
    expect(prod.services.maildev.profiles).toEqual(['dev']);
  });

  it('when the compose CLI renders both files, then it accepts them', () => {
    const cli = composeCli();
    expect(
      cli,
      'neither `docker compose` nor `docker-compose` is installed (global setup installs docker-compose)',
    ).not.toBeNull();
    const dir = mkdtempSync(path.join(tmpdir(), 'cc-compose-'));
    try {
      let baseFile = path.join(REPO_ROOT, 'docker-compose.yml');
      if (cli!.length === 1) {
        // Compose v1 (Debian's docker-compose 1.29) predates the top-level `name`; everything
        // else is checked as written.
        baseFile = path.join(dir, 'docker-compose.yml');
        writeFileSync(
          baseFile,
          readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8').replace(
            /^name: .*$/m,
            '',
          ),
        );
      }
      const run = (files: string[]) =>
        execFileSync(
          cli![0]!,
          [
            ...cli!.slice(1),
            '--project-directory',
            REPO_ROOT,
            ...files.flatMap((f) => ['-f', f]),
            'config',
          ],
          {
            env: { ...process.env, DOMAIN: 'chat.example.org' },
            encoding: 'utf8',
          },
        );
      expect(run([baseFile])).toContain('user-service');
      const merged = parse(run([baseFile, path.join(REPO_ROOT, 'docker-compose.prod.yml')])) as Obj;
      expect(merged.services.nginx.environment.SERVER_NAME).toBe('chat.example.org');
      expect(merged.services['chat-service'].deploy.replicas).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Dockerfiles', () => {
  const PORTS = { 'user-service': '3001', 'chat-service': '3002', 'notification-service': '3003' };
  for (const file of ['Dockerfile.service', 'nginx/Dockerfile']) {
    it(`when ${file} is read, then every base image is pinned by digest and the build uses npm ci`, () => {
      const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
      const images = [...text.matchAll(/^ARG [A-Z_]+_IMAGE=(.+)$/gm)].map((m) => m[1]!);
      expect(images.length).toBeGreaterThanOrEqual(2);
      for (const image of images) expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
      expect(text).toMatch(/RUN npm ci /);
      if (file === 'Dockerfile.service') {
        expect(text).toContain('gcr.io/distroless/nodejs20-debian12:nonroot@sha256:');
        expect(text).toMatch(/^USER 65532:65532$/m);
        expect(text).toContain('HEALTHCHECK');
        expect(text).toContain('"dist/healthcheck.js"');
        expect(text).toContain('--omit=dev');
        expect(text).toMatch(/^ARG SERVICE$/m);
        expect(text).toMatch(/^WORKDIR \/app\/\$\{SERVICE\}$/m);
      }
    });
  }

  it('when compose builds the services, then each uses Dockerfile.service with its own name, port and flags, and no service keeps a Dockerfile of its own', () => {
    const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Obj;
    for (const name of SERVICES) {
      const build = compose.services[name].build as Obj;
      expect(build.dockerfile, name).toBe('Dockerfile.service');
      expect(build.args, name).toMatchObject({ SERVICE: name, PORT: PORTS[name] });
      expect(existsSync(path.join(REPO_ROOT, name, 'Dockerfile')), name).toBe(false);
      expect(existsSync(path.join(REPO_ROOT, name, 'src/healthcheck.ts')), name).toBe(true);
      // the service's port: in the image, in compose's env files, and in Kubernetes
      const k8s = readFileSync(path.join(REPO_ROOT, 'k8s', `${name}.yaml`), 'utf8');
      expect(k8s).toContain(`containerPort: ${PORTS[name]}`);
      expect(k8s).toContain(`image: cipherchat/${name}`);
    }
    expect(compose.services['chat-service'].build.args).toMatchObject({
      NODE_OPTIONS: '--max-semi-space-size=64',
      ATTACHMENTS_DIR: '/data/attachments',
    });
    expect(compose.services['user-service'].build.args.NODE_OPTIONS).toBeUndefined();
    expect(compose.services.setup.build).toMatchObject({ dockerfile: 'Dockerfile.service', target: 'build', args: { SERVICE: 'user-service', PORT: '3001' } });
  });

  it('when a build argument a service needs is missing, then the guard of the recipe stops the build; what compose passes gets through', () => {
    // The guard is the first RUN of the build stage (a shell line continued with backslashes).
    const recipe = readFileSync(path.join(REPO_ROOT, 'Dockerfile.service'), 'utf8');
    const guard = /^RUN (test -n "\$SERVICE"(?:.*\\\n)*.*)$/m.exec(recipe)?.[1]?.replace(/\\\n/g, ' ');
    expect(guard).toBeDefined();
    const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Obj;
    const run = (args: Record<string, string>) =>
      spawnSync('sh', ['-c', guard!], { env: { PATH: process.env.PATH, SERVICE: '', PORT: '', ATTACHMENTS_DIR: '', NODE_OPTIONS: '', ...args }, encoding: 'utf8' });
    for (const name of SERVICES) expect(run(compose.services[name].build.args as Record<string, string>).status, name).toBe(0);
    expect(run({ SERVICE: 'user-service' }).status).toBe(1);
    expect(run({ SERVICE: 'chat-service', PORT: '3002', NODE_OPTIONS: '--max-semi-space-size=64' }).status).toBe(1);
    const noFlag = run({ SERVICE: 'chat-service', PORT: '3002', ATTACHMENTS_DIR: '/data/attachments' });
    expect(noFlag.status).toBe(1);
    expect(noFlag.stderr).toContain('NODE_OPTIONS=--max-semi-space-size=64');
  });
});
