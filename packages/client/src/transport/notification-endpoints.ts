import { NotificationPreferences, type UpdatePreferencesBody } from '@cipherchat/contracts';
import type { ApiClient } from './api-client.js';

/** notification-service's REST routes (`/api/notifications`), parsed with the contracts' schemas. */
export class NotificationEndpoints {
  /** @param http the SDK's HTTP client (auth, refresh, errors) */
  constructor(private readonly http: ApiClient) {}

  /** @returns my email notification preferences (defaults until I change something) */
  preferences(): Promise<NotificationPreferences> {
    return this.http.request('notifications', 'GET', '/preferences', { schema: NotificationPreferences });
  }

  /**
   * `PUT /preferences`: fields left out keep their value.
   * @param update what to change
   * @returns the preferences now in force
   */
  savePreferences(update: UpdatePreferencesBody): Promise<NotificationPreferences> {
    return this.http.request('notifications', 'PUT', '/preferences', { json: update, schema: NotificationPreferences });
  }
}
