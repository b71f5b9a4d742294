import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 17: when each device was last active (`chat.devices.last_active_at`), for the owner's
 * device list. Coarse on purpose: the hour a device last connected its socket or proved itself
 * on a route, written at most once per hour per device, so the column says little more than
 * "in use lately". Existing devices start unknown (null).
 */
export class DeviceLastActive1797000000000 implements MigrationInterface {
  name = 'DeviceLastActive1797000000000';

  /** @param q the migration's query runner */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE chat.devices ADD COLUMN last_active_at timestamptz`);
  }

  /** @param q the migration's query runner */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE chat.devices DROP COLUMN last_active_at`);
  }
}
