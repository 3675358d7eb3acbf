/**
 * What every value from the API goes through before a message shows it: line breaks flattened, characters that
 * make one name look like another made visible, and a length cap, so that one hostile field cannot break a line,
 * pose as another repository or push a message over a platform's limit.
 */

/** Longest free-text field from the API shown in a message (in code points); longer ones end in an ellipsis. */
export const FIELD_MAX = 200;
/** The same for a field inside the banner, which phones cut early and Slack's header limits to 150 characters. */
export const TITLE_FIELD_MAX = 40;

// Line breaks and other controls would end the line a name sits on (and with it the list item or the quote).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
// Bidi embeddings, overrides, isolates and marks, and zero-width characters: invisible, yet they reorder or split
// what is shown, so "‮gnp.exe" or "pay\u200bment" can pose as something else. Shown as U+FFFD instead of dropped, so
// the name on screen is visibly not the plain one.
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** A value from the API, safe to place on one line: no controls, no invisible reordering, at most `max` code points. */
export function apiText(s: string, max = FIELD_MAX): string {
  const flat = s.replace(CONTROL, ' ').replace(INVISIBLE, '\ufffd');
  // Cheap check first: a string no longer in UTF-16 units is no longer in code points either.
  if (flat.length <= max) return flat;
  // Walk code points only as far as the cap (a field may be megabytes), never splitting a surrogate pair.
  let i = 0;
  let cut = 0;
  for (let n = 0; n < max; n++) {
    if (i >= flat.length) return flat;
    if (n === max - 1) cut = i;
    i += flat.codePointAt(i)! > 0xffff ? 2 : 1;
  }
  return i >= flat.length ? flat : `${flat.slice(0, cut)}…`;
}

// What may appear in a shell command we print: ACR's own naming rules are narrower than this.
const SHELL_SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

// A silence pattern shown as typed: a plain name, with "*" only at its end (or alone). In markdown such a "*" is
// followed by a space or nothing, so it cannot open emphasis; "_" only between letters or digits cannot either.
const PATTERN_SAFE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._:/-]{0,126}[A-Za-z0-9:/.-])?)?\*?$/;
const LOOSE_UNDERSCORE = /_(?![A-Za-z0-9])|(?<![A-Za-z0-9])_/;

/**
 * Whether the silence pattern `s` can be shown as our own text (no look-alike escaping) and pasted back into
 * `acr-sync-alert silence add`: a plain name with at most a trailing "*", which no platform reads as markup.
 */
export const patternSafe = (s: string): boolean => s !== '' && PATTERN_SAFE.test(s) && !LOOSE_UNDERSCORE.test(s);

/** Whether `s` can be pasted into a shell as one word that means exactly itself. */
export const shellSafe = (s: string | undefined): s is string => s !== undefined && SHELL_SAFE.test(s);
