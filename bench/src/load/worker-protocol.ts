import type { ClientSpec, RunSpec } from './client-host.js';

/** Commands the runner sends a load worker (each answered by one {@link WorkerReply}). */
export type WorkerCommand = { reqId: number } & (
  | { t: 'connect'; clients: ClientSpec[]; concurrency: number }
  | { t: 'run'; spec: RunSpec }
  | { t: 'drain'; client: ClientSpec; expect: number; timeoutMs: number }
  | { t: 'count' }
  | { t: 'disconnect'; keys?: number[] }
  | { t: 'exit' }
);

/** A worker's answer. */
export type WorkerReply = { reqId: number } & ({ ok: true; data: unknown } | { ok: false; error: string });
