/**
 * Container HEALTHCHECK: exits 0 when this service answers GET /health on its own port, else 1.
 * Runs with the runtime image's node (distroless has no shell or curl): `node dist/healthcheck.js`.
 */
const port = process.env.PORT ?? '3001';
const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
process.exit(res?.ok ? 0 : 1);
