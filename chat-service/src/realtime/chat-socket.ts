import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '@cipherchat/contracts';

/** Per-socket data set by the handshake middleware. */
export interface SocketData {
  userId: string;
  deviceId: number;
  sessionId: string;
  /** Token expiry, epoch seconds. */
  exp: number;
}

/** The typed Socket.IO server. */
export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
/** One typed, authenticated socket. */
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Room of every socket of a user. */
export const userRoom = (userId: string) => `u:${userId}`;
/** Room of every socket of one device. */
export const deviceRoom = (userId: string, deviceId: number) => `d:${userId}:${deviceId}`;
