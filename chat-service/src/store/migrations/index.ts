import { Initial1763800000000 } from './1763800000000-initial.js';

/** Every migration of the chat schema, oldest first. */
export const migrations = [Initial1763800000000];
