/**
 * npm run bench [-- --quick]: finds, for each scenario, the highest open-loop
 * rate that passes (every tweet accepted, p99 ≤ 100 ms, both paths counted
 * within 5 s), on a private `bench` stack. Writes bench/results/.
 */
import { join } from 'node:path';
import { ROOT } from '@tweets/stack';
import { markdown, runBench, SCENARIOS } from './index.js';

const quick = process.argv.includes('--quick');
const { results, files } = await runBench({
  quick,
  stepSec: quick ? 3 : 30,
  rates: quick ? [100, 250, 500, 1000, 2000, 4000, 8000] : [100, 250, 500, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 6500, 8000, 10000, 12500, 15000],
  scenarios: SCENARIOS,
  stack: 'bench',
  manageStack: true,
  outDir: join(ROOT, 'bench', 'results'),
  log: (m) => console.log(`[bench] ${m}`),
});
console.log(`\n${markdown(results)}`);
for (const f of files) console.log(`[bench] wrote ${f}`);
