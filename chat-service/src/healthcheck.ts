// Docker HEALTHCHECK: exit 0 when /health answers 200, else 1.
const port = process.env.PORT ?? '3002';
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3_000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
