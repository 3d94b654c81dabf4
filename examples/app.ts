/**
 * The examples app that the top-level cdktf.json runs (`cdktf synth | diff | deploy | destroy`).
 * Inputs: see `config.ts`. Generate sample material with `npm run examples:material`.
 */
import { App } from 'cdktf';
import { exampleConfig } from './config';
import { ExampleStack } from './stack';

const app = new App();
new ExampleStack(app, exampleConfig());
app.synth();
