/**
 * Cutting a person's Socket.IO connections from the test (server outage, dead network).
 */
import type { WebSocketRoute } from 'playwright-core';
import type { Person } from './browser.js';

/**
 * A person's Socket.IO connections routed through Playwright, so a test can cut them the way a
 * server outage or a dead network does; while `down`, new connection attempts reach nothing.
 */
export interface SocketSwitch {
  /** While true, new sockets are black-holed: never connected, never answered. */
  down: boolean;
  /** The sockets currently passed through to the server. */
  readonly open: Set<WebSocketRoute>;
  /** Closes every open socket (code 4000) as the server or the network would. */
  cut(): Promise<void>;
}

/**
 * Routes a person's sockets through a {@link SocketSwitch} and reloads their page (a route
 * applies to pages loaded after it). Call before signing up or logging in.
 * @param p the person
 * @returns the switch
 */
export async function switchSockets(p: Person): Promise<SocketSwitch> {
  const sw: SocketSwitch = {
    down: false,
    open: new Set(),
    async cut() {
      const open = [...sw.open];
      sw.open.clear();
      await Promise.all(open.map((ws) => ws.close({ code: 4000, reason: 'cut by the test' })));
    },
  };
  await p.context.routeWebSocket(/\/socket\.io\//, (ws) => {
    // A server that is down black-holes the attempt: Socket.IO gives up on it after its 20 s
    // connect timeout and retries.
    if (sw.down) return;
    ws.connectToServer();
    sw.open.add(ws);
  });
  await p.page.reload();
  return sw;
}
