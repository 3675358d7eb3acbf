import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTable } from '../../../src/state/file.js';
import { OverlayTable } from '../../../src/state/overlay.js';
import { MemoryTable } from '../../../src/state/table.js';
import { rowTableContract } from '../../support/row-table-contract.js';

const file = () => new FileTable(join(mkdtempSync(join(tmpdir(), 'row-table-')), 'state.json'));

rowTableContract('the in-memory table', async () => new MemoryTable());
rowTableContract('the local file', async () => file());
rowTableContract("a dry run's table over memory", async () => new OverlayTable(new MemoryTable()));
rowTableContract("a dry run's table over the local file", async () => new OverlayTable(file()));
