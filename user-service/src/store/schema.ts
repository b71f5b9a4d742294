/** The PostgreSQL schema user-service owns; it touches no other. */
export const SCHEMA = 'users';
