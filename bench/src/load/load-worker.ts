/**
 * A load-generator child process: hosts a share of the simulated devices in a {@link ClientHost}
 * and obeys commands from the runner over IPC, so the generator can use every core and hold
 * thousands of sockets without being the bottleneck.
 */
import { ClientHost } from './client-host.js';
import type { WorkerCommand, WorkerReply } from './worker-protocol.js';

const host = new ClientHost();

process.on('message', (raw) => {
  const cmd = raw as WorkerCommand;
  void handle(cmd).then(
    (data) => reply({ reqId: cmd.reqId, ok: true, data }),
    (err: unknown) => reply({ reqId: cmd.reqId, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});

function reply(r: WorkerReply): void {
  process.send?.(r);
}

async function handle(cmd: WorkerCommand): Promise<unknown> {
  switch (cmd.t) {
    case 'connect':
      return host.connect(cmd.clients, cmd.concurrency);
    case 'run':
      return host.run(cmd.spec);
    case 'drain':
      return host.drain(cmd.client, cmd.expect, cmd.timeoutMs);
    case 'count':
      return { connected: host.connectedCount(), rssBytes: process.memoryUsage().rss };
    case 'disconnect':
      host.disconnect(cmd.keys);
      return { connected: host.connectedCount() };
    case 'exit':
      host.disconnect();
      setTimeout(() => process.exit(0), 50);
      return null;
  }
}

process.on('disconnect', () => process.exit(0));
