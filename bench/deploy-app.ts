/** The cdktf app of a deploy benchmark project (its cdktf.json runs this file): the stack of `BENCH_SPEC`. */
import { App, TerraformStack } from 'cdktf';
import { populate, specFromEnv } from './apps';

const app = new App();
populate(new TerraformStack(app, 'bench'), specFromEnv());
app.synth();
