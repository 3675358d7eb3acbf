import type { InstanceOutcome } from '../detect/observe.js';
import { aboutTask, type Alert } from '../model/alert.js';
import type { Checkpoint, OutboxEntry } from '../model/checkpoint.js';
import { targetsOf, type Route } from '../model/route.js';
import type { Silence } from '../model/silence.js';
import { alertsFrom } from './alerts.js';
import { advanceDigests, tagOwners, type OwnedAlerts } from './digest.js';
import { router } from './routing.js';
import { applySilences } from './silence.js';

/** What planning reads of the configuration. */
export interface PlanSettings {
  /** In matching order, the default route last. */
  routes: readonly Route[];
  silences: readonly Silence[];
  /** Consecutive failing reads of an instance before the channels are told alerting is blind there. */
  blindAfterRuns: number;
}

export interface RunPlan {
  /** Every alert this run raised, muted ones included. */
  alerts: Alert[];
  /** Alerts a silence kept from the channels, with the silence. */
  muted: { alert: Alert; silence: Silence }[];
  /** New outbox entries, each addressed to the targets of its route(s); digests due are among them. */
  fresh: OutboxEntry[];
  /** The checkpoint to claim: cursors, health, digests, and the outbox with `fresh` appended. */
  next: Checkpoint;
}

/**
 * Decides what a run records and sends from what it observed. Alerts are raised, silences applied, each alert
 * routed once (muted ones too, so the route that owns one counts it in its digest), the digests due are built, and
 * what is left to send is addressed to its targets. Pure.
 */
export function planRun(prev: Checkpoint, outcomes: readonly InstanceOutcome[], settings: PlanSettings, now: number, forceDigest: boolean): RunPlan {
  const { alerts, health } = alertsFrom(outcomes, prev.health, now, settings.blindAfterRuns);
  const silenced = applySilences(alerts, settings.silences, now);
  const route = router(settings.routes);
  const routed = new Map(alerts.map((a) => [a.id, route(a)]));
  const owned: OwnedAlerts = {
    sent: silenced.send,
    muted: silenced.muted.map((m) => m.alert),
    ownerOf: (a) => (aboutTask(a) ? routed.get(a.id)?.[0]?.name : undefined),
  };
  const cursors = { ...prev.instances };
  for (const o of outcomes) if (o.detection) cursors[o.inst.key] = o.detection.cursor;
  const instances = tagOwners(cursors, owned);

  // Digests: statistics gathered every run per route, each sent on its schedule (or on request) and then started afresh.
  const { digests, due } = advanceDigests(prev.digests, settings.routes, owned, instances, now, forceDigest);
  const fresh: OutboxEntry[] = [...silenced.send, ...due].map((alert) => ({
    alert, pending: (routed.get(alert.id) ?? route(alert)).flatMap(targetsOf), detectedAt: now, attempts: 0,
  }));
  const next: Checkpoint = { schema: 1, instances, outbox: [...prev.outbox, ...fresh], health, channels: prev.channels, digests };
  return { alerts, muted: silenced.muted, fresh, next };
}
