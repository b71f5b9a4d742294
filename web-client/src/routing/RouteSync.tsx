import { useEffect, useLayoutEffect, useRef } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { useApp } from '../state/store.js';
import { pathFor, viewFromPath } from './routes.js';

/**
 * Keeps the store's `state.view` and the URL in step while the signed-in shell shows:
 * - the URL leads: a link, Back/Forward, a reload or a deep link set `state.view`, and an open
 *   conversation's first history page is loaded;
 * - `actions.navigate(view)` pushes the view's URL (this component lends it the router);
 * - when the reducer moves away by itself (an open conversation was removed), the URL follows
 *   with a replace, so Back does not lead into the removed conversation.
 */
export function RouteSync() {
  const { state, dispatch, actions, navigator } = useApp();
  const location = useLocation();
  const navigate = useNavigate();
  const pathname = location.pathname.replace(/(.)\/+$/, '$1');
  const here = useRef(pathname);
  here.current = pathname;
  const viewPath = pathFor(state.view);
  const lastViewPath = useRef(viewPath);
  const stateView = useRef(state.view);
  stateView.current = state.view;

  // Lend the router to actions.navigate (layout effect: before any child effect can call it).
  useLayoutEffect(() => {
    navigator.current = (view, options) => {
      // The state moves at once (code right after may rely on it), the URL with it.
      dispatch({ type: 'navigate', view });
      const path = pathFor(view);
      if (path !== here.current) void navigate(path, { replace: options?.replace });
    };
    return () => {
      navigator.current = null;
    };
  }, [navigator, navigate, dispatch]);

  // URL -> state.
  const routed = viewFromPath(pathname);
  const routedPath = routed ? pathFor(routed) : null;
  useEffect(() => {
    const view = routedPath === null ? null : viewFromPath(routedPath);
    if (!view || routedPath === null) return;
    if (routedPath !== pathFor(stateView.current)) dispatch({ type: 'navigate', view });
    if (view.name === 'chats' && view.conversationId)
      void actions.ensureHistory(view.conversationId).catch(() => undefined);
  }, [routedPath, dispatch, actions]);

  // State -> URL, only when the reducer left the view the URL showed.
  useEffect(() => {
    const before = lastViewPath.current;
    lastViewPath.current = viewPath;
    if (before === here.current && viewPath !== here.current)
      void navigate(viewPath, { replace: true });
  }, [viewPath, navigate]);

  return null;
}
