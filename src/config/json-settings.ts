import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as v from 'valibot';
import type { Silence } from '../model/silence.js';
import { checkedZone, issueLines } from './routes.js';
import type { Env } from './settings.js';
import { silencesSchema } from './silences.js';

/** The text of `name` (inline) or of the file `name_FILE` names; undefined when neither is set or on a problem. */
function jsonText(env: Env, name: string, problems: string[]): string | undefined {
  const inline = env[name]?.trim();
  const file = env[`${name}_FILE`]?.trim();
  if (inline && file) {
    problems.push(`set ${name} or ${name}_FILE, not both`);
    return undefined;
  }
  if (!file) return inline;
  const codeDir = env.FC_FUNC_CODE_PATH?.trim();
  try {
    return readFileSync(codeDir && !isAbsolute(file) ? join(codeDir, file) : file, 'utf8');
  } catch (err) {
    problems.push(`${name}_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/**
 * A JSON setting given inline (`name`) or as a file (`name_FILE`), parsed; undefined when neither is set (or on a
 * problem, which is pushed). In Function Compute a relative file path is read from the code directory, which the
 * platform names in FC_FUNC_CODE_PATH (the working directory is not documented).
 */
export function jsonSetting(env: Env, name: string, problems: string[]): unknown {
  const text = jsonText(env, name, problems);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    problems.push(`${env[`${name}_FILE`]?.trim() ? `${name}_FILE` : name} is not valid JSON`);
    return undefined;
  }
}

/** SILENCES (JSON) or SILENCES_FILE (a JSON file), validated; problems name the silence and field. */
export function silencesOf(env: Env, problems: string[]): Silence[] {
  const raw = jsonSetting(env, 'SILENCES', problems);
  if (raw === undefined) return [];
  const r = v.safeParse(silencesSchema, raw);
  if (!r.success) {
    problems.push(...issueLines('silences', r.issues));
    return [];
  }
  for (const [n, sil] of r.output.entries()) {
    if (sil.timezone) checkedZone(`silences[${n}].timezone`, sil.timezone, problems);
  }
  return r.output;
}
