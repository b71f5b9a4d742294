import { Initial1763800000000 } from './1763800000000-initial.js';
import { DeviceSecret1796353403723 } from './1796353403723-device-secret.js';
import { Trust1796500000000 } from './1796500000000-trust.js';
import { Requests1796600000000 } from './1796600000000-requests.js';
import { MailboxUsage1796610000000 } from './1796610000000-mailbox-usage.js';
import { MailboxTallies1796640000000 } from './1796640000000-mailbox-tallies.js';
import { RequestBudget1796650000000 } from './1796650000000-request-budget.js';
import { MailboxHeld1796660000000 } from './1796660000000-mailbox-held.js';
import { DeviceLastActive1797000000000 } from './1797000000000-device-last-active.js';

/** Every migration of the chat schema, oldest first. */
export const migrations = [
  Initial1763800000000,
  DeviceSecret1796353403723,
  Trust1796500000000,
  Requests1796600000000,
  MailboxUsage1796610000000,
  MailboxTallies1796640000000,
  RequestBudget1796650000000,
  MailboxHeld1796660000000,
  DeviceLastActive1797000000000,
];
