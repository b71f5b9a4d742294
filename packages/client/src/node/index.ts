export * from './file-backend.js';
