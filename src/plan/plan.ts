import { aboutTask, type Alert, type DigestAlert } from '../model/alert.js';
import { canSend, DEFAULT_ROUTE, targetsOf, type Route } from '../model/route.js';
import type { Silence } from '../model/silence.js';
import type { Owed, RouteDigest } from '../model/state.js';
import { addMuted, addToStats, buildDigest, digestDue, type StillFailing } from './digest.js';
import { router } from './routing.js';
import { applySilences } from './silence.js';

/** What planning reads of the configuration. */
export interface PlanSettings {
  /** In matching order, the default route last. */
  routes: readonly Route[];
  silences: readonly Silence[];
}

/** What to claim for a batch of alerts. */
export interface Planned {
  /** One entry per alert and target it goes to. */
  owed: Owed[];
  /** Alerts a silence kept from the channels, with the silence. */
  muted: { alert: Alert; silence: Silence }[];
  /** Alerts no route can send (nothing configured matches and the default route has no channel). */
  unroutable: Alert[];
  /** The route that owns each alert about a task, muted or not: its digest counts it and lists it while failing. */
  owner: Map<string, string>;
}

/**
 * Plans a run's alerts batch by batch: silences applied, each alert routed once (muted ones too, so the route that
 * owns one counts it in its digest), addressed to its route's targets; and each route's digest statistics kept for the
 * run, with the digests due at its end. Pure but for its own running statistics.
 */
export class RunPlanner {
  private readonly route: (a: Alert) => readonly Route[];
  private readonly stats = new Map<string, RouteDigest>();
  private readonly touched = new Set<string>();
  private silences: readonly Silence[];

  constructor(
    private readonly settings: PlanSettings,
    prev: ReadonlyMap<string, RouteDigest>,
    private readonly now: number,
  ) {
    this.route = router(settings.routes);
    this.silences = settings.silences;
    for (const r of settings.routes.filter(canSend))
      this.stats.set(r.name, prev.get(r.name) ?? { stats: addToStats(undefined, [], now) });
  }

  /** Adds silences kept in the state (read only when a run has something they could mute) to the configured ones. */
  addSilences(stored: readonly Silence[]): void {
    this.silences = [...this.settings.silences, ...stored];
  }

  /**
   * Every silence not expired, configured or stored (daily windows included, in or out of their hours), for a
   * digest.
   */
  silencesInForce(): Silence[] {
    return this.silences.filter((s) => !s.expires || Date.parse(s.expires) > this.now);
  }

  plan(alerts: readonly Alert[]): Planned {
    const silenced = applySilences(alerts, this.silences, this.now);
    const owner = new Map<string, string>();
    const owed: Owed[] = [];
    const unroutable: Alert[] = [];
    for (const alert of alerts) {
      const routes = this.route(alert);
      if (aboutTask(alert) && routes[0]) owner.set(alert.id, routes[0].name);
    }
    for (const alert of silenced.send) {
      const targets = this.route(alert).flatMap(targetsOf);
      if (targets.length === 0) unroutable.push(alert);
      for (const target of targets) owed.push({ target, alert, detectedAt: this.now });
    }
    return { owed, muted: silenced.muted, unroutable, owner };
  }

  /** Adds what was claimed (and muted) to the statistics of the routes that own it. */
  count(sent: readonly Alert[], muted: readonly Alert[], owner: ReadonlyMap<string, string>): void {
    const by = (list: readonly Alert[]) => {
      const m = new Map<string, Alert[]>();
      for (const a of list) {
        const o = owner.get(a.id);
        if (o === undefined || !this.stats.has(o)) continue;
        m.set(o, [...(m.get(o) ?? []), a]);
      }
      return m;
    };
    for (const [r, list] of by(sent)) this.update(r, (d) => ({ ...d, stats: addToStats(d.stats, list, this.now) }));
    for (const [r, list] of by(muted)) this.update(r, (d) => ({ ...d, muted: addMuted(d.muted, list, this.now) }));
  }

  private update(route: string, f: (d: RouteDigest) => RouteDigest): void {
    this.stats.set(route, f(this.stats.get(route)!));
    this.touched.add(route);
  }

  /** The routes whose digest is due now by their schedule, or all of them when `force`d. */
  digestsDue(force: boolean): string[] {
    return this.settings.routes
      .filter(
        (r) => this.stats.has(r.name) && (force || digestDue(r.digest, this.stats.get(r.name)!.lastSentAt, this.now)),
      )
      .map((r) => r.name);
  }

  /** The digest of `route`, owed to its targets; its statistics start afresh. */
  digest(route: string, stillFailing: readonly StillFailing[]): { alert: DigestAlert; owed: Owed[] } {
    const alert = buildDigest({
      route,
      digest: this.stats.get(route)!,
      stillFailing,
      now: this.now,
      silences: this.silencesInForce(),
    });
    this.stats.set(route, { stats: addToStats(undefined, [], this.now), lastSentAt: this.now });
    this.touched.add(route);
    return {
      alert,
      owed: this.route(alert)
        .flatMap(targetsOf)
        .map((target) => ({ target, alert, detectedAt: this.now })),
    };
  }

  /** The digest rows this run changed. */
  changed(): Map<string, RouteDigest> {
    return new Map([...this.touched].map((r) => [r, this.stats.get(r)!]));
  }

  /**
   * Owner routes known to this planner: a failing image tagged with a route since removed belongs to the default
   * one.
   */
  ownerOf(route: string | undefined): string {
    return route !== undefined && this.stats.has(route) ? route : DEFAULT_ROUTE;
  }
}
