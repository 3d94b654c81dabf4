/**
 * One synth, in its own process: builds the app of `BENCH_SPEC` and runs `app.synth()` (what `cdktf synth`
 * runs), then prints `{"inProcessMs", "maxRssKiB"}` on stdout. The parent times the whole process.
 */
import { performance } from 'node:perf_hooks';
import { specFromEnv, populate } from './apps';

const started = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { App, TerraformStack } = require('cdktf') as typeof import('cdktf');
const spec = specFromEnv();
const outdir = process.env.BENCH_OUTDIR;
if (!outdir) throw new Error('BENCH_OUTDIR is not set');
// BENCH_SKIP_VALIDATION=1 skips construct validations (cdktf's own runs `terraform version` once per
// terraform_data), to show what the resources themselves cost; `cdktf synth` validates.
const app = new App({ outdir, skipValidation: process.env.BENCH_SKIP_VALIDATION === '1' });
const stack = new TerraformStack(app, 'bench');
populate(stack, spec);
app.synth();
const inProcessMs = performance.now() - started;
process.stdout.write(`${JSON.stringify({ inProcessMs, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
