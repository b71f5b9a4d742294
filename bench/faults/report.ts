/**
 * Small helpers of the fault suite's set-up and report: publishing events as their producer
 * would, the commit the run measured, and writing the report file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { REPO_ROOT } from '../src/stack.js';

/**
 * Publishes events on the stack's exchange as their producer would (envelope, routing key =
 * type, persistent, publisher confirms).
 * @param url amqp URL
 * @param exchange the stack's exchange
 * @param events type, aggregate id and payload of each
 */
export async function publishEvents(
  url: string,
  exchange: string,
  events: { type: string; aggregateId: string; payload: unknown }[],
): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange(exchange, 'topic', { durable: true });
    for (const e of events) {
      const envelope = {
        id: randomUUID(),
        type: e.type,
        occurredAt: new Date().toISOString(),
        aggregateId: e.aggregateId,
        payload: e.payload,
      };
      ch.publish(exchange, e.type, Buffer.from(JSON.stringify(envelope)), {
        persistent: true,
        contentType: 'application/json',
        messageId: envelope.id,
      });
    }
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

/**
 * @param args git arguments
 * @returns git's output, or `unknown`
 */
export function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** @returns the commit, the chat-service commit and whether the measured code had uncommitted changes */
export function revision(): { commit: string; chatServiceCommit: string; dirty: boolean } {
  return {
    commit: git(['rev-parse', 'HEAD']),
    chatServiceCommit: git(['log', '-1', '--format=%H', '--', 'chat-service']),
    dirty:
      git([
        'status',
        '--porcelain',
        '--',
        'chat-service',
        'notification-service',
        'packages',
        'bench',
      ]).length > 0,
  };
}

/**
 * Writes `bench/results/faults-<timestamp>.json`.
 * @param report the report
 * @returns the file's path
 */
export function writeReport(report: unknown): string {
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `faults-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
