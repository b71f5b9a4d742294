import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.js';
import type { ConversationView, GroupPermissionsView } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { button, click, render, settle } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const carol = {
  id: '00000000-0000-4000-8000-00000000000c',
  username: 'carol',
  displayName: 'Carol',
};

function group(
  permissions: GroupPermissionsView,
  myRole: 'owner' | 'admin' | 'member',
): ConversationView {
  return {
    id: '00000000-0000-4000-8000-0000000000d1',
    kind: 'group',
    title: 'Hikers',
    members: [
      { userId: alice.id, role: myRole },
      { userId: bob.id, role: myRole === 'owner' ? 'admin' : 'owner' },
      { userId: carol.id, role: 'member' },
    ],
    createdAt: '2026-01-01T00:00:00.000Z',
    permissions,
  };
}

/** Opens the group's settings from the chat header. */
async function openSettings(api: ReturnType<typeof stubApi>) {
  const { container, unmount } = await render(
    <AppProvider api={api}>
      <App />
    </AppProvider>,
  );
  cleanup = unmount;
  await settle();
  await click(container.querySelector('.conversation-item')!);
  await settle();
  await click(button(container, 'Group settings'));
  await settle();
  return container;
}

const byLabel = (container: HTMLElement, label: string) =>
  container.querySelector<HTMLButtonElement>(`button[aria-label="${label}"]`)!;

describe('group settings', () => {
  const users = async (id: string) =>
    id === bob.id ? bob : id === carol.id ? carol : Promise.reject(new Error('unknown'));

  it('when I am a plain member, then rename, roles, remove and add are disabled and only leaving is possible', async () => {
    const c = group({ rename: false, add: false, leave: true, remove: [], setRole: [] }, 'member');
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [c],
      getUser: users,
    });
    const container = await openSettings(api);
    expect(container.querySelector('h1')?.textContent).toBe('Hikers: group settings');
    expect(button(container, 'Rename').disabled).toBe(true);
    expect(container.textContent).toContain('Only owners and admins can rename the group.');
    expect(byLabel(container, 'Remove Carol').disabled).toBe(true);
    expect(byLabel(container, 'Make an admin: Carol').disabled).toBe(true);
    expect(container.textContent).toContain('Only owners and admins can add people.');
    expect(button(container, 'Leave group').disabled).toBe(false);
  });

  it('when the owner promotes and the SDK refuses a removal, then the role changes and the refusal is shown', async () => {
    const c = group(
      {
        rename: true,
        add: true,
        leave: true,
        remove: [bob.id, carol.id],
        setRole: [bob.id, carol.id],
      },
      'owner',
    );
    const setMemberRole = vi.fn(async (_id: string, userId: string, role: 'admin' | 'member') => ({
      ...c,
      members: c.members.map((m) => (m.userId === userId ? { ...m, role } : m)),
    }));
    const removeMember = vi.fn(async () => {
      throw Object.assign(new Error('this group change is not allowed (not_allowed)'), {
        code: 'forbidden',
      });
    });
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [c],
      getUser: users,
      setMemberRole,
      removeMember,
    });
    const container = await openSettings(api);
    await click(byLabel(container, 'Make an admin: Carol'));
    await settle();
    expect(setMemberRole).toHaveBeenCalledWith(c.id, carol.id, 'admin');
    expect(byLabel(container, 'Make a member: Carol')).not.toBeNull();
    await click(byLabel(container, 'Remove Bob'));
    await settle();
    expect(container.querySelector('[role="alert"]')?.textContent).toMatch(/not allowed/);
  });

  it('when I leave, then a dialog asks first; cancelling keeps me in, confirming leaves and shows the chat read-only', async () => {
    const c = group(
      { rename: true, add: true, leave: true, remove: [carol.id], setRole: [] },
      'admin',
    );
    let listed = [c];
    const removeMember = vi.fn(async () => {
      listed = [];
      return { ...c, members: [] };
    });
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => listed,
      getUser: users,
      removeMember,
    });
    const container = await openSettings(api);
    await click(button(container, 'Leave group'));
    expect(container.querySelector('dialog')?.textContent).toContain('Leave Hikers?');
    await click(button(container, 'Cancel'));
    expect(container.querySelector('dialog')).toBeNull();
    expect(removeMember).not.toHaveBeenCalled();

    await click(button(container, 'Leave group'));
    await click(button(container, 'Leave'));
    await settle();
    expect(removeMember).toHaveBeenCalledWith(c.id, alice.id);
    expect(container.querySelector('#conversation-title')?.textContent).toContain('Hikers');
    expect(container.textContent).toContain('You are no longer in this conversation.');
  });
});
