import { it } from 'vitest';
import { runMemplan } from '../../bench/memplan';
it('bench', async () => { console.log(JSON.stringify(await runMemplan(3))); }, 600_000);
