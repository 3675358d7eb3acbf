// Runs the real handler once in its own process, as a Function Compute instance would, so that a test can kill it
// at any moment. The summary is the line starting with SUMMARY:.
import { handler } from '../../src/index.js';

const context = JSON.parse(process.env.CHILD_CONTEXT ?? '{}') as Record<string, unknown>;
const event = Buffer.from(process.env.CHILD_EVENT ?? '');
handler(event, context).then(
  (out) => console.log(`SUMMARY:${out}`),
  (err: unknown) => {
    console.log(`FAILED:${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
