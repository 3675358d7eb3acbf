import { aboutTask, type Alert } from '../model/alert.js';
import { canSend, DEFAULT_ROUTE, type Route } from '../model/route.js';
import { matchesAny, matchesTask } from './match.js';

/**
 * The routes an alert goes to. `routes` is in order with the default route last. An alert about a sync task goes to
 * the first route that matches it and can send; a notice that alerting is blind (or sees again) for an instance goes
 * to every route that could receive alerts from that instance, since each of them is missing its failures; a digest
 * belongs to the route it was built for. Pure; the returned arrays are shared, not to be changed.
 */
export function router(routes: readonly Route[]): (alert: Alert) => readonly Route[] {
  // A burst routes thousands of alerts: one array per route, shared by every alert that goes there.
  const sending = routes.filter(canSend).map((r) => ({ route: r, only: [r] as const }));
  const none: readonly Route[] = [];
  return (alert) => {
    if (alert.kind === 'digest')
      return sending.find((s) => s.route.name === (alert.route ?? DEFAULT_ROUTE))?.only ?? none;
    if (!aboutTask(alert))
      return sending.filter((s) => matchesAny(alert.instance, s.route.match?.instance)).map((s) => s.route);
    return sending.find((s) => s.route.match === undefined || matchesTask(s.route.match, alert))?.only ?? none;
  };
}
