import { readFile } from 'node:fs/promises';
import { parseRulePage, parseTaskPage } from '../acr/parse.js';
import { DEFAULT_STUCK_AFTER_MINUTES } from '../config/config.js';
import { InstanceDetector } from '../detect/detect.js';
import { UsageError } from './usage.js';
import type { ChannelName, Lang } from '../model/lang.js';
import type { SyncRule } from '../model/task.js';
import { alertsOf } from '../plan/alerts.js';
import { contentOf } from '../render/content.js';
import { renderFor } from '../render/index.js';
import type { Io } from './commands.js';
import { formatMessage } from './print.js';

/**
 * `preview`: renders the messages for the failed tasks in a file (a ListRepoSyncTask response, or an array of its
 * SyncTasks items; a `SyncRules` array beside them names the rules), or for the built-in sample. No network.
 */
export async function previewCommand(
  io: Io,
  o: { file?: string; lang: Lang; channels: ChannelName[]; json: boolean },
): Promise<number> {
  let body: unknown;
  if (o.file) {
    const text = await readFile(o.file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UsageError([`--file: cannot read ${o.file} (${e.code ?? e.message})`]);
    });
    try {
      body = JSON.parse(text);
    } catch {
      throw new UsageError([`--file: ${o.file} is not JSON`]);
    }
  } else {
    // The simulator is a development tool: loaded only here, never by a run or the deployed bundle.
    const { demoInstances } = await import('../sim/seed.js');
    const instances = demoInstances(Date.now());
    body = { SyncTasks: instances.flatMap((i) => i.tasks), SyncRules: instances.flatMap((i) => i.rules) };
  }
  const asPage = Array.isArray(body) ? { SyncTasks: body } : (body as Record<string, unknown>);
  const tasks = parseTaskPage({ Code: 'success', TotalCount: 0, ...asPage }, '', { pageNo: 1, pageSize: 0 });
  for (const d of tasks.dropped) io.err(`skipped: ${d}`);
  const rules = new Map<string, SyncRule>();
  if (Array.isArray(asPage.SyncRules)) {
    for (const r of parseRulePage({ TotalCount: 0, SyncRules: asPage.SyncRules }, { pageNo: 1, pageSize: 0 }).items)
      rules.set(r.ruleId, r);
  }
  // What a first run would send for these tasks: per source instance, the same detection and alerts as a run, with
  // no state yet and no look-back limit.
  const now = Date.now();
  const byInstance = new Map<string, typeof tasks.items>();
  for (const t of tasks.items) {
    const key = `${t.from.regionId}:${t.from.instanceId}`;
    byInstance.set(key, [...(byInstance.get(key) ?? []), t]);
  }
  const alerts = [...byInstance].flatMap(([key, items]) => {
    const detector = new InstanceDetector(undefined, [], now, { stuckAfterMs: DEFAULT_STUCK_AFTER_MINUTES * 60_000 });
    const changes = detector.take(
      { tasks: items, lo: Number.NEGATIVE_INFINITY, watchOnly: false },
      { handled: new Set(), failing: new Map() },
    );
    return alertsOf(key, changes, rules, now);
  });
  if (alerts.length === 0) {
    io.out(`nothing to announce among ${tasks.items.length} tasks`);
    return 0;
  }
  for (const channel of o.channels) {
    const payload = renderFor(channel, contentOf(alerts), o.lang);
    io.out(o.json ? JSON.stringify(payload, null, 2) : formatMessage(channel, payload));
  }
  return alerts.length;
}
