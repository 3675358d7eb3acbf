import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { rawTask, type TaskSpec } from '../../src/sim/seed.js';
import { keysFor } from '../../src/state/rows.js';
import { announcedIds, closeWorlds, KEYS, SECRETS, startWorld, type World } from '../support/world.js';

const HZ = { instanceId: 'cri-sil0hz', regionId: 'cn-hangzhou' };
const SH = { instanceId: 'cri-sil0sh', regionId: 'cn-shanghai' };
const min = 60_000;
const localKeys = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: KEYS.id,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEYS.secret,
  ALIBABA_CLOUD_SECURITY_TOKEN: KEYS.token,
};

function task(id: string, agoMin: number, issue: string, repo: string, ruleId = 'crsr-rel'): TaskSpec {
  return {
    id,
    status: 'ERROR',
    issue,
    createTime: Date.now() - agoMin * min,
    ruleId,
    from: { ...HZ, namespace: 'prod', repo, tag: 'v1' },
    to: SH,
  };
}
const rules = [
  { SyncRuleId: 'crsr-rel', SyncRuleName: 'release-to-shanghai', SyncTrigger: 'PASSIVE' },
  { SyncRuleId: 'crsr-dr', SyncRuleName: 'dr', SyncTrigger: 'PASSIVE' },
];

function cli(env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    // A command that changes a local state file needs --local (no deployed run reads that file).
    run: (args: string[]) =>
      main(env.TABLESTORE_ENDPOINT ? args : [...args, '--local'], {
        out: (s) => void out.push(s),
        err: (s) => void err.push(s),
        env: { ...env, ...localKeys, USER: 'alice' },
      }),
  };
}

/** Splits a command line as a POSIX shell would for what our messages print: words, and "double-quoted" words. */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

let world: World | undefined;
afterEach(closeWorlds);

describe.each([
  ['Tablestore (real SDK, local server)', true],
  ['the local file', false],
])('silences from the command line, kept in %s', (_name, tablestore) => {
  it('add mutes what it matches from the next run on, list shows it, expire ends it; nothing else is muted', async () => {
    world = await startWorld({
      instances: [{ ...HZ, tasks: [rawTask(task('rst-a1', 30, 'TAG_CONFLICT', 'api'))], rules }],
      tablestore,
    });
    await world.run();
    const c = cli(world.env);
    expect(
      await c.run([
        'silence',
        'add',
        '--rule',
        'release-to-shanghai',
        '--cause',
        'TAG_CONFLICT',
        '--for',
        '2h',
        '--comment',
        'release freeze',
      ]),
    ).toBe(0);
    const id = c.out[0]!.split('\n')[0]!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const tasks = world.cr.instances[0]!.tasks;
    tasks.push(
      rawTask(task('rst-a2', 5, 'TAG_CONFLICT', 'web')),
      rawTask(task('rst-a3', 4, 'NETWORK_ERROR', 'web')),
      rawTask(task('rst-a4', 3, 'TAG_CONFLICT', 'db', 'crsr-dr')),
    );
    const muted = await world.run();
    expect(muted.muted).toBe(1);
    expect(announcedIds(world.hooks, 'dingtalk').sort()).toEqual(['rst-a1', 'rst-a3', 'rst-a4']);
    expect(world.logs.some((l) => l.includes('muted by a silence') && l.includes('release freeze'))).toBe(true);

    const l = cli(world.env);
    expect(await l.run(['silence', 'list'])).toBe(0);
    expect(l.out.join('\n')).toMatch(
      new RegExp(`${id.slice(0, 8)}\\s+rule=release-to-shanghai cause=TAG_CONFLICT\\s+\\S+\\s+alice\\s+release freeze`),
    );

    const e = cli(world.env);
    expect(await e.run(['silence', 'expire', id.slice(0, 8)])).toBe(0);
    expect(e.out.join()).toContain(`${id}: expired`);
    tasks.push(rawTask(task('rst-a5', 1, 'TAG_CONFLICT', 'cache')));
    await world.run();
    expect(announcedIds(world.hooks, 'dingtalk')).toContain('rst-a5');
    const after = cli(world.env);
    await after.run(['silence', 'list']);
    expect(after.out.join()).toBe('no silences in force');
    const all = cli(world.env);
    await all.run(['silence', 'list', '--expired']);
    expect(all.out.join('\n')).toMatch(/\(expired\)/);
    for (const s of SECRETS) expect([...c.out, ...c.err, ...l.out, ...e.out, ...all.out].join()).not.toContain(s);
  });

  it('list aligns its columns as a terminal shows them, Chinese rule names included', async () => {
    world = await startWorld({ instances: [{ ...HZ, tasks: [], rules }], tablestore });
    await world.run();
    for (const rule of ['发布到上海', 'release-to-shanghai']) {
      const add = ['silence', 'add', '--rule', rule, '--for', '2h', '--comment', '发布冻结'];
      expect(await cli(world.env).run(add)).toBe(0);
    }
    const l = cli(world.env);
    expect(await l.run(['silence', 'list'])).toBe(0);
    const lines = l.out.join('\n').split('\n');
    // Where the ENDS column starts in each row, in terminal columns (a Chinese character takes two).
    const cols = (s: string) => [...s].reduce((n, ch) => n + (/[\u4e00-\u9fff]/.test(ch) ? 2 : 1), 0);
    const starts = lines.map((x) => cols(x.slice(0, x.search(/ENDS|\d{4}-\d{2}-\d{2}T/))));
    expect(lines).toHaveLength(3);
    expect(new Set(starts).size).toBe(1);
  });
});

describe('silences: the command in a message, digests, bad input', () => {
  it('the silence command a failure message carries, run as printed, mutes that group and only that group', async () => {
    world = await startWorld({
      instances: [{ ...HZ, tasks: [rawTask(task('rst-m1', 30, 'TAG_CONFLICT', 'api'))], rules }],
      tablestore: true,
    });
    await world.run();
    const body = JSON.stringify(world.hooks.received.find((m) => m.channel === 'slack')!.body);
    const printed = JSON.parse(`"${/acr-sync-alert silence add [^`\\]*(?:\\"[^\\]*\\")?/.exec(body)![0]}"`) as string;
    expect(printed).toBe(
      'acr-sync-alert silence add --instance cn-hangzhou:cri-sil0hz --rule crsr-rel --cause TAG_CONFLICT --for 2h --comment "why"',
    );
    const c = cli(world.env);
    expect(await c.run(words(printed).slice(1))).toBe(0);
    world.cr.instances[0]!.tasks.push(
      rawTask(task('rst-m2', 2, 'TAG_CONFLICT', 'web')),
      rawTask(task('rst-m3', 1, 'OSS_POLICY_UNAUTHORIZED', 'web')),
    );
    const s = await world.run();
    expect(s.muted).toBe(1);
    expect(announcedIds(world.hooks, 'slack')).toEqual(['rst-m1', 'rst-m3']);
    // Silences are read by a run with something to mute, not by a quiet one.
    const before = world.ots!.calls.length;
    expect((await world.run()).outcome).toBe('nothing-new');
    expect(world.ots!.calls.slice(before).map((c) => c.action)).toEqual(['BatchGetRow']);
  });

  it('a digest lists the silences in force with who, why and until when, beside the configured ones', async () => {
    world = await startWorld({
      instances: [{ ...HZ, tasks: [rawTask(task('rst-d1', 30, 'TAG_CONFLICT', 'api'))], rules }],
      tablestore: true,
      env: {
        SILENCES: JSON.stringify([
          { namespace: 'sandbox', daily: '02:00-04:00', timezone: 'Asia/Shanghai', comment: 'nightly rebuild' },
        ]),
      },
    });
    await world.run();
    const c = cli(world.env);
    expect(
      await c.run([
        'silence',
        'add',
        '--repo',
        'legacy-*',
        '--until',
        '2099-01-01T00:00:00Z',
        '--comment',
        'being retired',
        '--author',
        'bob',
      ]),
    ).toBe(0);
    const id = c.out[0]!.split('\n')[0]!;
    await world.run({ payload: '{"digest":true}' });
    const digest = JSON.stringify(world.hooks.received.filter((m) => m.channel === 'dingtalk').at(-1)!.body);
    expect(digest).toContain('Silences in force: 2');
    // Shown as the options of silence add, pasteable: a trailing * cannot start emphasis, so it stays as typed.
    expect(digest).toMatch(
      new RegExp(`${id.slice(0, 8)} · --repo legacy-\\* · until 2099-01-01 00:00 UTC · by bob · being retired`),
    );
    expect(digest).toMatch(/--namespace sandbox · daily 02:00-04:00 Asia\/Shanghai · nightly rebuild/);
  });

  it('refuses a silence without matchers, comment or end, or with a bad duration, naming each problem; writes nothing', async () => {
    world = await startWorld({ instances: [{ ...HZ, tasks: [], rules }], tablestore: true });
    await world.run();
    const cases: [string[], RegExp][] = [
      [['--for', '2h', '--comment', 'x'], /at least one of --instance/],
      [['--repo', 'api', '--for', '2h'], /--comment is required/],
      [['--repo', 'api', '--comment', 'x'], /give --for \(e\.g\. 2h\) or --until/],
      [['--repo', 'api', '--for', '90', '--comment', 'x'], /--for "90" is not a duration/],
      [['--repo', 'api', '--for', 'soon', '--comment', 'x'], /--for "soon" is not a duration/],
      [['--repo', 'api', '--until', '2001-01-01T00:00:00Z', '--comment', 'x'], /has already passed/],
      [['--repo', 'api', '--until', 'tomorrow', '--comment', 'x'], /--until "tomorrow" must be an ISO 8601 time/],
      [['--repo', 'api', '--for', '2h', '--until', '2099-01-01T00:00:00Z', '--comment', 'x'], /not both/],
      [['--repo', '*', '--for', '2h', '--comment', 'x'], /every matcher given is \*/],
    ];
    for (const [args, problem] of cases) {
      const c = cli(world.env);
      expect(await c.run(['silence', 'add', ...args])).toBe(2);
      expect(c.err.join('\n')).toMatch(/^usage:/);
      expect(c.err.join('\n')).toMatch(problem);
    }
    const k = keysFor('test');
    expect((await world.table().rangePage(k.silenceRange[0], k.silenceRange[1], 5_000)).rows).toEqual([]);
    const e = cli(world.env);
    expect(await e.run(['silence', 'expire', 'deadbeef'])).toBe(1);
    expect(e.err.join()).toMatch(/deadbeef: no silence has this id/);
  });
});
