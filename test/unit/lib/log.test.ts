import { afterEach, describe, expect, it, vi } from 'vitest';
import { inspect } from 'node:util';
import { createLogger, type Level } from '../../../src/lib/log.js';
import { scrub, Secret, type Revealable } from '../../../src/lib/secret.js';

/** A secret's value as it reaches a log line by accident: a plain string, no redacting type around it. */
const plain = (value: string): Revealable => ({ reveal: () => value });

function capture(opts: Parameters<typeof createLogger>[0] = {}) {
  const lines: [Level, string][] = [];
  const log = createLogger({ ...opts, sink: (level, line) => lines.push([level, line]) });
  return { log, lines };
}

describe('log lines', () => {
  it('scrub a secret that reached a message or field as a plain string', () => {
    const hook = 'https://hooks.slack.com/services/T0/B0/hook-secret-a41f';
    const { log, lines } = capture({ secrets: [plain(hook), plain('ak-secret-9f3a')] });
    log.error(`post to ${hook} failed`, { error: `SDK said: bad signature for ak-secret-9f3a at ${hook}` });
    expect(lines).toHaveLength(1);
    expect(lines[0]![1]).not.toContain('hook-secret-a41f');
    expect(lines[0]![1]).not.toContain('ak-secret-9f3a');
    expect(JSON.parse(lines[0]![1])).toEqual({
      level: 'error',
      msg: 'post to [redacted] failed',
      error: 'SDK said: bad signature for [redacted] at [redacted]',
    });
  });

  it('scrub the URL-encoded form of a secret too', () => {
    const { log, lines } = capture({ secrets: [plain('tok/with space')] });
    log.warn('retrying', {
      url: `https://relay.example/?t=${encodeURIComponent('tok/with space')}`,
      raw: 'tok/with space',
    });
    expect(JSON.parse(lines[0]![1])).toMatchObject({ url: 'https://relay.example/?t=[redacted]', raw: '[redacted]' });
  });

  it('are one JSON object a line, with the base fields, and leave values that are no secret alone', () => {
    const { log, lines } = capture({ base: { run: 'r1' }, secrets: [plain('abc')] });
    log.info('scan done', { instance: 'cn-hangzhou:cri-abc', pages: 2 });
    // A value shorter than 4 characters would scrub ordinary words, so it is left alone.
    expect(lines).toEqual([
      [
        'info',
        JSON.stringify({ level: 'info', msg: 'scan done', run: 'r1', instance: 'cn-hangzhou:cri-abc', pages: 2 }),
      ],
    ]);
  });

  it('below the minimum level are dropped; info is the default minimum', () => {
    const dflt = capture();
    dflt.log.debug('d');
    dflt.log.info('i');
    dflt.log.warn('w');
    dflt.log.error('e');
    expect(dflt.lines.map(([level, line]) => [level, JSON.parse(line).msg])).toEqual([
      ['info', 'i'],
      ['warn', 'w'],
      ['error', 'e'],
    ]);
    const verbose = capture({ minLevel: 'debug' });
    verbose.log.debug('d');
    expect(verbose.lines.map(([level]) => level)).toEqual(['debug']);
    const quiet = capture({ minLevel: 'error' });
    quiet.log.warn('w');
    quiet.log.error('e');
    expect(quiet.lines.map(([level]) => level)).toEqual(['error']);
  });
});

describe('log lines by default', () => {
  afterEach(() => vi.restoreAllMocks());
  // Function Compute prefixes console.log lines with time, request id and level; stdout writes are stored as written.
  // (This replaces the earlier split to stderr for warnings: issue 22 asks for JSON lines as written.)
  it('go to standard output as written, every level, one JSON object and newline each, not through console', () => {
    const out: string[] = [];
    const viaConsole: unknown[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void viaConsole.push(a));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void viaConsole.push(a));
    const log = createLogger({ minLevel: 'debug' });
    log.debug('d');
    log.info('i');
    log.warn('w', { detail: 'two\nlines' });
    log.error('e');
    expect(viaConsole).toEqual([]);
    expect(out.every((chunk) => chunk.endsWith('\n') && chunk.indexOf('\n') === chunk.length - 1)).toBe(true);
    expect(out.map((l) => JSON.parse(l).msg)).toEqual(['d', 'i', 'w', 'e']);
  });

  it('carry the time, in UTC, when given a clock', () => {
    const { log, lines } = capture({ now: () => Date.UTC(2026, 11, 3, 20, 5, 0, 42), base: { runId: 'r-9' } });
    log.info('run finished');
    expect(JSON.parse(lines[0]![1])).toEqual({
      level: 'info',
      time: '2026-12-03T20:05:00.042Z',
      msg: 'run finished',
      runId: 'r-9',
    });
  });
});

describe('secrets', () => {
  it('print as redacted however they are printed, and give their value only when revealed', () => {
    const s = new Secret('value-1234');
    expect([String(s), `${s}`, JSON.stringify({ s }), inspect(s), inspect({ s })]).toEqual([
      '[redacted]',
      '[redacted]',
      '{"s":"[redacted]"}',
      'Secret([redacted])',
      '{ s: Secret([redacted]) }',
    ]);
    expect(s.reveal()).toBe('value-1234');
  });

  it('are scrubbed wherever they occur, every occurrence, and values under 4 characters never', () => {
    expect(scrub('a=abcd b=abcd c=abc', [plain('abcd'), plain('abc')])).toBe('a=[redacted] b=[redacted] c=abc');
    expect(scrub('no secrets here', [])).toBe('no secrets here');
    expect(scrub('k=abcd', [plain('abc')])).toBe('k=abcd');
    expect(scrub('k=wxyz', [new Secret('wxyz')])).toBe('k=[redacted]');
  });
});
