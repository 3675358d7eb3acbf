import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { closeDeployed, KEY_ENV, startDeployedFunction } from '../support/deployed.js';
import { buildCli, runCli } from '../support/cli-process.js';
import { instanceWithOneFailure } from '../support/one-failure.js';
import { SECRETS, startWorld, type World } from '../support/world.js';

// Issue 22: `check` said "configuration is valid" over a mistyped setting and tested the webhooks only. It now tries
// everything a run needs, one line each, through the real clients against the local servers.
const keys = KEY_ENV;
const A = 'cn-hangzhou:cri-checka';
const B = 'cn-hangzhou:cri-checkb';

let world: World | undefined;
afterEach(closeDeployed);

/** A world of two instances with their state in Tablestore. */
const twoInstances = (more: Partial<Parameters<typeof startWorld>[0]> = {}) =>
  startWorld({
    instances: [instanceWithOneFailure('cri-checka', 'rst-c1'), instanceWithOneFailure('cri-checkb', 'rst-c2')],
    tablestore: true,
    ...more,
  });

async function check(args: string[], env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['check', ...args], { out: (s) => void out.push(s), err: (s) => void err.push(s), env });
  for (const s of SECRETS) expect([...out, ...err].join('\n')).not.toContain(s);
  return { code, out, err, text: out.join('\n') };
}

const failed = (lines: string[]) => lines.filter((l) => l.startsWith('✗'));

describe('check tries everything a run needs', () => {
  beforeAll(buildCli, 60_000);

  it('all ✓ through the installed CLI: CR per instance, the table read and written, each channel sent to', async () => {
    world = await twoInstances();
    const r = await runCli(['check', '--send'], { ...world.env, ...keys });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^✓ configuration: read: 2 instance\(s\), 1 route\(s\), state in Tablestore alertstate\//),
      '✓ CR credentials: accepted',
      `✓ instance ${A}: sync tasks readable`,
      `✓ instance ${A}: sync rules readable`,
      `✓ instance ${B}: sync tasks readable`,
      `✓ instance ${B}: sync rules readable`,
      '✓ Tablestore alertstate/acr_sync_alert: reachable, rows readable (BatchGetRow)',
      '✓ Tablestore alertstate/acr_sync_alert: writes allowed (BatchWriteRow; a conditional write, nothing written)',
      '✓ channel dingtalk: test message accepted',
      '✓ channel slack: test message accepted',
      expect.stringMatching(/^note: CR and Tablestore were tried with your credentials/),
    ]);
    // Counted at the servers: one item asked per call, and nothing left in the table.
    expect(world.cr.calls.map((c) => [c.action, c.params.InstanceId, c.params.PageSize])).toEqual(
      expect.arrayContaining([
        ['ListRepoSyncTask', 'cri-checka', '1'],
        ['ListRepoSyncRule', 'cri-checka', '1'],
        ['ListRepoSyncTask', 'cri-checkb', '1'],
        ['ListRepoSyncRule', 'cri-checkb', '1'],
      ]),
    );
    expect(world.cr.calls).toHaveLength(4);
    // A first check creates the table, as a first run would; its write cannot apply (its condition never holds).
    expect(world.ots!.calls.map((c) => [c.action, c.status, c.rowsWritten])).toEqual([
      ['BatchGetRow', 404, 0],
      ['CreateTable', 200, 0],
      ['BatchWriteRow', 200, 0],
    ]);
    expect((await world.table().rangePage(' ', '\u007f', 5_000)).rows).toEqual([]);
    expect(world.hooks.received.map((m) => m.channel).sort()).toEqual(['dingtalk', 'slack']);
  }, 90_000);

  it('without --send posts nothing and says so; --json prints the same checks', async () => {
    world = await twoInstances();
    const r = await check(['--json'], { ...world.env, ...keys });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.text) as { ok: boolean; checks: { ok: boolean; what: string; said: string }[] };
    expect(report.ok).toBe(true);
    expect(report.checks.filter((c) => c.what.startsWith('channel'))).toEqual([
      { ok: true, what: 'channel dingtalk', said: 'webhook well-formed; not sent; --send posts a test message' },
      { ok: true, what: 'channel slack', said: 'webhook well-formed; not sent; --send posts a test message' },
    ]);
    expect(world.hooks.attempts).toHaveLength(0);
  });

  it('names a setting that only looks like ours, with the nearest real one, and fails', async () => {
    world = await twoInstances({
      env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/x', ALERT_TIMEZOME: 'UTC' },
    });
    const r = await check([], { ...world.env, ...keys });
    expect(r.code).toBe(1);
    expect(failed(r.out)).toEqual([
      '✗ configuration: ALERT_TIMEZOME is not a setting of this function and is ignored: did you mean ALERT_TIMEZONE? ' +
        '— fix: rename it to the setting named, or remove it',
      '✗ configuration: SLACK_WEBHOOK_URL is not a setting of this function and is ignored: did you mean ' +
        'SLACK_WEBHOOK? — fix: rename it to the setting named, or remove it',
    ]);
  });

  it('a configuration that cannot be read is ✗ with its problems, exit 1, nothing tried', async () => {
    world = await twoInstances();
    const r = await check(['--send'], { ...world.env, ...keys, ACR_INSTANCES: 'nope', ALERT_TIMEZONE: 'CST' });
    expect(r.code).toBe(1);
    expect(failed(r.out)).toEqual([
      expect.stringMatching(
        /^✗ configuration: ACR_INSTANCES entry "nope" must look like .* — fix: correct the setting/,
      ),
      expect.stringMatching(/^✗ configuration: ALERT_TIMEZONE "CST" is an abbreviation or alias.*Asia\/Shanghai/),
    ]);
    expect([world.cr.calls.length, world.ots!.calls.length, world.hooks.attempts.length]).toEqual([0, 0, 0]);
  });

  it('a wrong CR key is one ✗ naming the code and how to give a valid key', async () => {
    world = await twoInstances();
    const r = await check([], { ...world.env, ...keys, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret' });
    expect(r.code).toBe(1);
    expect(failed(r.out)).toContainEqual(
      expect.stringMatching(
        /^✗ CR credentials: ListRepoSyncTask on cri-check[ab]: credentials were rejected \(SignatureDoesNotMatch\).* — fix: use a valid access key: ALIBABA_CLOUD_ACCESS_KEY_ID/,
      ),
    );
    expect(r.out.filter((l) => l.includes('instance '))).toEqual([]);
    expect(r.text).not.toContain('not-the-secret');
  });

  it('an instance that does not exist and a rule list the role may not read are each named with the fix', async () => {
    world = await twoInstances({ cr: { denied: ['ListRepoSyncRule'] } });
    const r = await check([], { ...world.env, ...keys, ACR_INSTANCES: `${A},cn-hangzhou:cri-nosuch` });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`✓ instance ${A}: sync tasks readable`);
    expect(failed(r.out)).toEqual([
      expect.stringMatching(
        /^✗ instance cn-hangzhou:cri-checka: ListRepoSyncRule on cri-checka was refused \(NoPrivilege\).* — fix: grant cr:ListSyncRule on cn-hangzhou:cri-checka/,
      ),
      expect.stringMatching(
        /^✗ instance cn-hangzhou:cri-nosuch: .*INSTANCE_NOT_EXIST.* — fix: check ACR_INSTANCES: cn-hangzhou:cri-nosuch is not an instance/,
      ),
    ]);
  });

  it('a CR endpoint that does not answer is ✗ per instance, and says nothing of the credentials', async () => {
    world = await twoInstances();
    const r = await check([], { ...world.env, ...keys, ACR_ENDPOINT: 'http://127.0.0.1:9/{regionId}' });
    expect(r.code).toBe(1);
    expect(failed(r.out)).toEqual([
      expect.stringMatching(
        /^✗ instance cn-hangzhou:cri-checka: .*network error.* — fix: check ACR_ENDPOINT and the region/,
      ),
      expect.stringMatching(
        /^✗ instance cn-hangzhou:cri-checkb: .*network error.* — fix: check ACR_ENDPOINT and the region/,
      ),
    ]);
    expect(r.text).not.toContain('CR credentials');
  });

  it("Tablestore refusing the Internet is ✗ with the service's code and message and the fix", async () => {
    world = await twoInstances();
    const r = await check([], { ...world.env, ...keys, TABLESTORE_ENDPOINT: world.ots!.endpoints.internet });
    expect(r.code).toBe(1);
    expect(failed(r.out)).toEqual([
      expect.stringMatching(
        /^✗ Tablestore alertstate\/acr_sync_alert: Tablestore BatchGetRow was refused: OTSAuthFailed "Request denied by instance ACL policies\." .* — fix: the instance's network ACL refuses .* internal endpoint/,
      ),
    ]);
    expect(world.ots!.calls.map((c) => [c.action, c.code])).toEqual([['BatchGetRow', 'OTSAuthFailed']]);
  });

  it('a role that may read the table but not write it is ✗ on the write', async () => {
    world = await twoInstances();
    world.ots!.fault({ action: 'BatchWriteRow', kind: 'error', status: 403, code: 'OTSNoPermissionAccess' });
    const r = await check([], { ...world.env, ...keys });
    expect(r.code).toBe(1);
    expect(r.out).toContain('✓ Tablestore alertstate/acr_sync_alert: reachable, rows readable (BatchGetRow)');
    expect(failed(r.out)).toEqual([
      expect.stringMatching(/^✗ Tablestore .*OTSNoPermissionAccess.* — fix: grant the role the table's ots: actions/),
    ]);
  });

  it('a channel refusing the test message with --send is ✗ with what to change', async () => {
    world = await twoInstances({ hooks: { dingtalkKeyword: 'deploy-bot' } });
    const r = await check(['--send'], { ...world.env, ...keys });
    expect(r.code).toBe(1);
    expect(failed(r.out)).toEqual([
      expect.stringMatching(
        /^✗ channel dingtalk: test message refused: .*310000.* — fix: .*use ACR as the robot's custom keyword/,
      ),
    ]);
    expect(r.out).toContain('✓ channel slack: test message accepted');
  });

  it("--function checks the deployed function's settings", async () => {
    world = await twoInstances({ env: { SLACK_WEBHOK: 'x' } });
    const { STATE_FILE: _file, SLACK_WEBHOK: _typo, ...fnEnv } = world.env;
    const fc = await startDeployedFunction(fnEnv);
    // The local environment's lookalike is not the deployment's: only the deployed settings are checked.
    const args = ['--function', 'acr-sync-alert', '--region', 'cn-hangzhou', '--endpoint', fc.endpoint];
    const r = await check(args, { ...keys, SLACK_WEBHOK: 'x' });
    expect([r.code, failed(r.out)]).toEqual([0, []]);
    expect(fc.configReads).toEqual([{ name: 'acr-sync-alert', status: 200 }]);
    expect(world.cr.calls).toHaveLength(4);
  });
});
