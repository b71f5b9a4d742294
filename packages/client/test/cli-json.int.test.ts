import { describe, expect, it } from 'vitest';
import { useCli } from './support/cli.js';
import { account } from './support/stack.js';

/** Issue 16 item 8: `chat-cli --json` against the real stack, and the group commands. */

const cli = useCli('chat-cli-json');
const start = (args: string[], password: string) => cli.start(args, password);

/** Runs the CLI to its end: exit code, stdout lines parsed as JSON, raw stderr. */
async function run(
  args: string[],
  password: string,
): Promise<{ code: number | null; lines: unknown[]; err: string }> {
  const { code, out, err } = await cli.run(['--json', ...args], password);
  // Every line of stdout must be JSON, whatever happened.
  const lines = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
  return { code, lines, err };
}

/** Runs the CLI and expects it to succeed with exactly one JSON result. */
async function ok<T>(args: string[], password: string): Promise<T> {
  const r = await run(args, password);
  expect(r.code, r.err).toBe(0);
  expect(r.lines).toHaveLength(1);
  return r.lines[0] as T;
}

type Group = {
  group: { id: string; title: string | null; members: { userId: string; role: string }[] };
};

describe('chat-cli --json', () => {
  it(
    'when three people use groups from the terminal with --json, then every answer is one JSON line, listen streams JSON events, and refusals are JSON errors with a non-zero exit',
    { timeout: 240_000 },
    async () => {
      const [a, b, c] = [account('alice'), account('bob'), account('carol')];
      const signup = (x: typeof a) =>
        ok<{ user: { id: string; username: string }; recoveryKey: string }>(
          ['signup', '--email', x.email, '--username', x.username, '--display-name', x.displayName],
          x.password,
        );
      const alice = await signup(a);
      expect(alice.user.username).toBe(a.username.toLowerCase());
      expect(alice.recoveryKey).toMatch(/^([A-Z2-7]{4}-){12}[A-Z2-7]{4}$/);
      const bob = await signup(b);
      await signup(c);

      // Bob listens: one JSON object per line, starting with `listening`.
      const listener = start(['--json', 'listen', '--email', b.email], b.password);
      const events: { type: string; message?: { text?: string; kind?: string } }[] = [];
      let buffered = '';
      const seen = (match: (e: (typeof events)[number]) => boolean) =>
        new Promise<void>((resolve) => {
          const check = () => events.some(match) && resolve();
          listener.stdout.on('data', check);
          check();
        });
      listener.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const l of lines) if (l) events.push(JSON.parse(l) as (typeof events)[number]);
      });
      await seen((e) => e.type === 'listening');

      const created = await ok<Group>(
        ['group-create', 'Hikers', b.username, c.username, '--email', a.email],
        a.password,
      );
      expect(created.group).toMatchObject({ title: 'Hikers' });
      expect(created.group.members.map((m) => m.role).sort()).toEqual([
        'member',
        'member',
        'owner',
      ]);
      const id = created.group.id;

      const promoted = await ok<Group>(
        ['group-role', id, b.username, 'admin', '--email', a.email],
        a.password,
      );
      expect(promoted.group.members.find((m) => m.userId === bob.user.id)?.role).toBe('admin');
      const renamed = await ok<Group>(
        ['group-rename', id, 'Hikers', 'and', 'climbers', '--email', a.email],
        a.password,
      );
      expect(renamed.group.title).toBe('Hikers and climbers');
      const sent = await ok<{ message: { id: string; conversationId: string } }>(
        ['group-send', id, 'hello hikers', '--email', a.email],
        a.password,
      );
      expect(sent.message.conversationId).toBe(id);

      await seen((e) => e.type === 'message' && e.message?.text === 'hello hikers');
      expect(events.some((e) => e.type === 'message' && e.message?.kind === 'event')).toBe(true);
      listener.kill('SIGINT');
      await new Promise((resolve) => listener.on('close', resolve));

      const listed = await ok<{ groups: Group['group'][] }>(
        ['groups', '--email', b.email],
        b.password,
      );
      expect(listed.groups).toEqual([
        expect.objectContaining({ id, title: 'Hikers and climbers' }),
      ]);

      // Bob is an admin: the group's rules let only the owner change roles.
      const refused = await run(
        ['group-role', id, c.username, 'admin', '--email', b.email],
        b.password,
      );
      expect(refused.code).toBe(1);
      expect(refused.lines).toEqual([]);
      expect(JSON.parse(refused.err.trim().split('\n').pop()!)).toEqual({
        error: { code: 'forbidden', message: 'only the owner can change roles' },
      });

      const nobody = await run(
        ['send', 'nobody-here-at-all', 'hi', '--email', a.email],
        a.password,
      );
      expect(nobody.code).not.toBe(0);
      expect(JSON.parse(nobody.err.trim())).toMatchObject({ error: { code: 'not_found' } });

      const bad = await run(['groups', '--bogus'], a.password);
      expect(bad.code).toBe(2);
      expect(JSON.parse(bad.err.trim())).toMatchObject({ error: { code: 'usage_error' } });
    },
  );
});
