import { describe, expect, it } from 'vitest';
import type { View } from '../state/index.js';
import { pathFor, viewFromPath } from './routes.js';

describe('routes', () => {
  const views: Array<[View, string]> = [
    [{ name: 'chats' }, '/chats'],
    [{ name: 'chats', conversationId: 'c-1' }, '/chats/c-1'],
    [{ name: 'members', conversationId: 'c-1' }, '/chats/c-1/members'],
    [{ name: 'people' }, '/people'],
    [{ name: 'newGroup' }, '/groups/new'],
    [{ name: 'safety', userId: 'u-1' }, '/safety/u-1'],
    [{ name: 'devices' }, '/devices'],
    [{ name: 'settings' }, '/settings'],
  ];

  it.each(views)(
    'when the view is %o, then its path is %s and reads back as the same view',
    (view, path) => {
      expect(pathFor(view)).toBe(path);
      expect(viewFromPath(path)).toEqual(view);
    },
  );

  it('when a path has a trailing slash, then it is the same view', () => {
    expect(viewFromPath('/chats/c-1/')).toEqual({ name: 'chats', conversationId: 'c-1' });
  });

  it('when a path is no view, then there is none (the app shows "Page not found")', () => {
    for (const p of ['/', '/nope', '/chats/a/b', '/safety', '/groups', '/assets/x.js']) {
      expect(viewFromPath(p), p).toBeNull();
    }
  });

  it('when an id has URL-special characters, then it survives the round trip', () => {
    const view: View = { name: 'chats', conversationId: 'a/b?c#d' };
    expect(viewFromPath(pathFor(view))).toEqual(view);
  });
});
