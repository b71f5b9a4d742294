import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCli } from './support/cli.js';
import { account } from './support/stack.js';

const cli = useCli('chat-cli');
const start = (args: string[], password: string) => cli.start(args, password);
const runCli = (args: string[], password: string) => cli.runOk(args, password);

describe('chat-cli', () => {
  it('when Alice signs up and sends from the terminal, then Bob listening in another terminal prints it', { timeout: 120_000 }, async () => {
    const a = account('alice');
    const b = account('bob');
    const signup = (x: typeof a) =>
      runCli(['signup', '--email', x.email, '--username', x.username, '--display-name', x.displayName], x.password);
    expect(await signup(a)).toMatch(/RECOVERY KEY[^\n]*\n\s+([A-Z2-7]{4}-){12}[A-Z2-7]{4}/);
    await signup(b);

    const listener = start(['listen', '--email', b.email], b.password);
    let heard = '';
    const listening = new Promise<void>((resolve) => {
      listener.stdout.on('data', (d: Buffer) => {
        heard += d.toString();
        if (heard.includes('listening')) resolve();
      });
    });
    await listening;
    const sent = await runCli(['send', b.username, 'hello', 'from', 'the', 'terminal', '--email', a.email], a.password);
    expect(sent).toMatch(/^sent /);
    await new Promise<void>((resolve) => {
      const check = () => heard.includes('hello from the terminal') && resolve();
      listener.stdout.on('data', check);
      check();
    });
    listener.kill('SIGINT');
    await new Promise((resolve) => listener.on('close', resolve));

    // The state files hold no key or text in clear.
    const files = (await readdir(cli.stateDir)).filter((f) => f.endsWith('.state'));
    expect(files.length).toBe(2);
    for (const f of files) expect(await readFile(path.join(cli.stateDir, f), 'utf8')).not.toContain('terminal');
    // Logging in again reuses the stored device (no new device registered).
    expect(await runCli(['login', '--email', a.email], a.password)).toMatch(/identity local/);
  });

  it('when Bob writes to Alice and she replies from the terminal to his message id, then Bob gets her text quoting his message', { timeout: 120_000 }, async () => {
    const a = account('alice');
    await runCli(['signup', '--email', a.email, '--username', a.username, '--display-name', a.displayName], a.password);
    const bob = cli.stack.client('bob');
    await bob.signUp(account('bob'));
    const alice = await bob.findUser(a.username);
    const direct = await bob.createConversation({ kind: 'direct', memberIds: [alice!.id] });
    const question = await bob.sendText(direct.id, 'lunch at noon?');
    // Alice's terminal receives it (and keeps it in its history), printing its id.
    const listener = start(['listen', '--email', a.email], a.password);
    let heard = '';
    listener.stdout.on('data', (d: Buffer) => (heard += d.toString()));
    await new Promise<void>((resolve) => {
      const check = () => heard.includes(`lunch at noon? (id ${question.id})`) && resolve();
      listener.stdout.on('data', check);
      check();
    });
    listener.kill('SIGINT');
    await new Promise((resolve) => listener.on('close', resolve));

    const got = bob.next('message', (m) => m.text === 'yes, see you');
    const out = await runCli(['reply', direct.id, question.id, 'yes,', 'see', 'you', '--email', a.email], a.password);
    expect(out).toContain(`(reply to ${question.id})`);
    expect(await got).toMatchObject({ replyTo: { id: question.id, authorUserId: bob.user.id, excerpt: 'lunch at noon?' } });
    await expect(runCli(['reply', direct.id, crypto.randomUUID(), 'nope', '--email', a.email], a.password)).rejects.toThrow(/not in this terminal's history/);
    bob.disconnect();
  });
});
