export * from './user.http.js';
export * from './notification.http.js';
export * from './chat.http.js';
export * from './safety.http.js';
