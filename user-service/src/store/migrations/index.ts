import type { MigrationInterface } from 'typeorm';
import { InitUsers1763790000000 } from './1763790000000-init-users.js';

/** Every user-service migration, oldest first. */
export const migrations: (new () => MigrationInterface)[] = [InitUsers1763790000000];
