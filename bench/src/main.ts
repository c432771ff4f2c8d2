/**
 * npm run bench [-- --quick]: finds, for each scenario, the highest open-loop
 * rate that passes (every tweet accepted, p99 ≤ 100 ms, every path counted
 * within 5 s), measures each broker's floor at the fan-out's top rate, and
 * writes bench/results/. It runs on a private `bench` stack, started fresh.
 */
import { join } from 'node:path';
import { ROOT } from '@tweets/stack';
import { markdown, runBench, SCENARIOS } from './index.js';

const quick = process.argv.includes('--quick');
const started = Date.now();
const { results, files } = await runBench({
  quick,
  stepSec: quick ? 3 : 30,
  rampSec: quick ? 1 : 2,
  rates: quick
    ? { bare: [2000, 5000, 8000, 11000], pipeline: [1000, 2500, 4000, 5500], naive: [100, 200, 400] }
    : {
        bare: [2000, 4000, 6000, 8000, 10000, 12000, 14000, 16000, 20000],
        pipeline: [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000],
        naive: [50, 100, 200, 300, 500, 750, 1000, 1500],
      },
  refine: quick ? 0 : 2,
  warmupSec: quick ? 3 : 20,
  floorSec: quick ? 2 : 10,
  floorRepeats: quick ? 1 : 3,
  scenarios: SCENARIOS,
  stack: 'bench',
  manageStack: true,
  outDir: join(ROOT, 'bench', 'results'),
  log: (m) => console.log(`[bench] ${m}`),
});
console.log(`\n${markdown(results)}`);
for (const f of files) console.log(`[bench] wrote ${f}`);
console.log(`[bench] done in ${Math.round((Date.now() - started) / 1000)} s`);
