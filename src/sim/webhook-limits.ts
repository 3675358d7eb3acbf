/** The size and shape limits the local webhook receivers enforce, as DingTalk and Slack do. */

// Limits the receiver enforces, as the platforms do. Slack Block Kit: 50 blocks per message (attachments' blocks
// included), a section's text 3,000 characters, a header's 150, a context's elements 10; and an undocumented total
// for all blocks together (msg_blocks_too_long; seen from about 11,300 characters of text, slackapi/bolt-js#2509 and
// #2867), measured here strictly: the JSON of every block. DingTalk: robots answer errcode 460101 "message too long,
// exceed 20000 bytes" for a larger body (Le0nsec/SecCrawler#12).
const SLACK_MAX_BLOCKS = 50;
const SLACK_SECTION_MAX = 3_000;
const SLACK_HEADER_MAX = 150;
const SLACK_CONTEXT_ELEMENTS = 10;
const SLACK_BLOCKS_MAX_CHARS = 11_000;
export const DINGTALK_BODY_MAX_BYTES = 20_000;

type Block = { type?: string; text?: { text?: string }; elements?: { text?: string }[] };

/** Every block of a Slack message: its own, then its attachments'. */
function blocksOf(msg: Record<string, unknown>): Block[] {
  const top = msg.blocks;
  const attachments = Array.isArray(msg.attachments) ? (msg.attachments as { blocks?: unknown }[]) : [];
  return [
    ...(Array.isArray(top) ? top : []),
    ...attachments.flatMap((a) => (Array.isArray(a.blocks) ? a.blocks : [])),
  ] as Block[];
}

/** Whether one block breaks a Block Kit limit (header or section text, context elements). */
function blockTooLarge(b: Block): boolean {
  const len = b.text?.text?.length ?? 0;
  if (b.type === 'header') return len > SLACK_HEADER_MAX;
  if (b.type === 'section') return len > SLACK_SECTION_MAX;
  if (b.type !== 'context') return false;
  const elements = b.elements ?? [];
  return elements.length > SLACK_CONTEXT_ELEMENTS || elements.some((e) => (e.text?.length ?? 0) > SLACK_SECTION_MAX);
}

/** The error Slack answers a message with (`no_text`, `invalid_blocks`, `msg_blocks_too_long`); undefined if none. */
export function slackProblem(msg: Record<string, unknown>, maxChars = SLACK_BLOCKS_MAX_CHARS): string | undefined {
  const blocks = blocksOf(msg);
  const attachments = Array.isArray(msg.attachments) ? msg.attachments : [];
  if (typeof msg.text !== 'string' && !Array.isArray(msg.blocks) && attachments.length === 0) return 'no_text';
  if (blocks.length > SLACK_MAX_BLOCKS || blocks.some(blockTooLarge)) return 'invalid_blocks';
  if (JSON.stringify(blocks).length > maxChars) return 'msg_blocks_too_long';
  return undefined;
}
