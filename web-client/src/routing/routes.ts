import { matchPath } from 'react-router';
import type { View } from '../state/index.js';

/**
 * The URL of every view, and back. The URL is where the app is: Back/Forward, reloads and
 * deep links all go through these two functions (see docs/web-client.md "Routes").
 */
const patterns: Array<{ pattern: string; view: (p: Record<string, string>) => View }> = [
  { pattern: '/chats', view: () => ({ name: 'chats' }) },
  {
    pattern: '/chats/:conversationId',
    view: (p) => ({ name: 'chats', conversationId: p['conversationId']! }),
  },
  {
    pattern: '/chats/:conversationId/members',
    view: (p) => ({ name: 'members', conversationId: p['conversationId']! }),
  },
  { pattern: '/people', view: () => ({ name: 'people' }) },
  { pattern: '/groups/new', view: () => ({ name: 'newGroup' }) },
  { pattern: '/safety/:userId', view: (p) => ({ name: 'safety', userId: p['userId']! }) },
  { pattern: '/devices', view: () => ({ name: 'devices' }) },
  { pattern: '/settings', view: () => ({ name: 'settings' }) },
];

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The path of a view.
 * @param view the view
 * @returns its path, e.g. `/chats/<id>/members`
 */
export function pathFor(view: View): string {
  const seg = encodeURIComponent;
  switch (view.name) {
    case 'chats':
      return view.conversationId ? `/chats/${seg(view.conversationId)}` : '/chats';
    case 'members':
      return `/chats/${seg(view.conversationId)}/members`;
    case 'people':
      return '/people';
    case 'newGroup':
      return '/groups/new';
    case 'safety':
      return `/safety/${seg(view.userId)}`;
    case 'devices':
      return '/devices';
    case 'settings':
      return '/settings';
  }
}

/**
 * The view a path shows.
 * @param pathname a location's pathname (a trailing slash is ignored)
 * @returns the view, or null for a path that is no view (`/` and unknown paths)
 */
export function viewFromPath(pathname: string): View | null {
  for (const { pattern, view } of patterns) {
    const m = matchPath({ path: pattern, end: true }, pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.params)) params[k] = decode(v ?? '');
    return view(params);
  }
  return null;
}
