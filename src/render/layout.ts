import type { Escalation } from '../model/escalation.js';
import type { MessageContent } from './content.js';
import type { Detail } from './detail.js';
import { line, type Doc } from './doc.js';
import { failureSections } from './failures.js';
import type { Locale } from './locale.js';
import { otherSections } from './others.js';
import { titleOf } from './title.js';
import { wordsFor } from './words.js';

/**
 * What a message says at detail `d`, before any platform lays it out: the banner, notices about alerting itself,
 * failures rolled up by rule, target and cause, the stuck, finished and recovered syncs, digests, and once at the end
 * what the commands in it need and whether more follows. `esc`: the route's escalation, for the banner's severity.
 */
export function layout(c: MessageContent, loc: Locale, d: Detail, esc?: Escalation): Doc {
  const { title, tone } = titleOf(c, loc, esc);
  const failures = failureSections(c, loc, d);
  const others = otherSections(c, loc, d);
  return {
    title,
    tone,
    sections: [...others.lead, ...failures.sections, ...others.tail],
    notes: [
      ...(failures.rerun ? [line('note', wordsFor(loc.lang).rerunNote)] : []),
      ...(c.more ? [line('note', wordsFor(loc.lang).moreFollows)] : []),
    ],
  };
}
