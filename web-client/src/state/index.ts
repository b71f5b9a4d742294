export type * from './chat-api.js';
export type * from './history-api.js';
export type { View, AppState, Action } from './reducer.js';
export {
  reducer,
  initialState,
  orderedConversations,
  conversationTitle,
  directPeer,
} from './reducer.js';
export { describeError } from './describe-error.js';
export { describeGroupEvent, membershipWarningText } from './group-events.js';
export type * from './search-api.js';
