export * from './error-codes.js';
export * from './events/index.js';
export * from './http/index.js';
export * from './socket.js';
