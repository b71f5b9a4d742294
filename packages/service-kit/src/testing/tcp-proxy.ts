import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a local server (RabbitMQ, PostgreSQL, Redis). Tests
 * point a service at the proxy and call `cut()` to make the dependency vanish for that
 * service alone (every open connection is destroyed and new ones are refused), then
 * `restore()` to bring it back, without disturbing anything else using the real server.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** Port the proxy listens on (stable across cut/restore). */
  port = 0;

  /**
   * @param targetPort the real server's port on 127.0.0.1
   */
  constructor(private readonly targetPort: number) {}

  /**
   * Starts listening (on a random port the first time, the same port afterwards).
   * @returns the port
   */
  async start(): Promise<number> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      this.sockets.add(client);
      this.sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Destroys every connection and stops accepting new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again on the same port. */
  async restore(): Promise<void> {
    await this.start();
  }

  /** Same as {@link cut}; for afterAll. */
  async stop(): Promise<void> {
    await this.cut();
  }
}
