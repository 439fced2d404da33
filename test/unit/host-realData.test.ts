// The host's load pipeline on what model runs save: an .npz or safetensors dump opens on its attention member
// (never its tokens) with the tokens on the axes; a JSON manifest can take its labels from a run's tokens.
import * as assert from 'assert';
import * as fs from 'fs';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { loadSpec } from '../../src/core/jsonSpec';
import { MatrixError } from '../../src/core/ndarray';
import { fileSource } from '../../src/sources/fileSource';
import { EXPECTED_STRINGS, formatsFixture as fx } from '../fixtures/formats/fixtures';

const env = { settings: () => DEFAULT_SETTINGS };
const SHOWN = ['<s>', '␣The', '␣cat', '␣sat', '.'];

describe('host: real model output opens with its tokens', () => {
  it('an .npz without a member opens "attentions" (not "tokens") with the tokens on both axes', async () => {
    const model = await fileSource(fx('run.npz'), undefined, env).load({ layer: 1, head: 0 });
    assert.strictEqual(model.title, 'run.npz · attentions');
    assert.deepStrictEqual(model.grid && [model.grid.layers, model.grid.heads], [2, 2]);
    assert.deepStrictEqual(model.queryLabels, SHOWN);
    assert.deepStrictEqual(model.keyLabels, SHOWN);
    assert.deepStrictEqual(model.selection, { layer: 1, head: 0 });
  });
  it('a bf16 safetensors dump opens its grid with the tokens from __metadata__', async () => {
    const model = await fileSource(fx('run_bf16.safetensors'), undefined, env).load(undefined);
    assert.deepStrictEqual(model.grid && [model.grid.layers, model.grid.heads], [2, 2]);
    assert.strictEqual(model.info.dtype, 'bfloat16');
    assert.deepStrictEqual(model.queryLabels, SHOWN);
  });
  it('cross attention: query_tokens and key_tokens on their own axes', async () => {
    const model = await fileSource(fx('cross.npz'), 'weights', env).load(undefined);
    assert.deepStrictEqual(model.queryLabels, ['Le', '␣chat', '.']);
    assert.deepStrictEqual(model.keyLabels, ['The', '␣cat', 'sat', '⏎']);
  });
  it('opening the tokens member itself is one clear error', async () => {
    await assert.rejects(fileSource(fx('run.npz'), 'tokens', env).load(undefined),
      (e: unknown) => e instanceof MatrixError && /run\.npz#tokens: holds strings \(<U4, e\.g\. tokens\), not numbers/.test(e.message));
  });
  it('a JSON manifest takes queryLabels/keyLabels from FILE.npz#tokens', async () => {
    const file = fx('labels.attention.json');
    const seen: string[] = [];
    const spec = await loadSpec(fs.readFileSync(file, 'utf8'), file, (f) => seen.push(f));
    assert.deepStrictEqual(spec.queryLabels, SHOWN);
    assert.deepStrictEqual(spec.keyLabels, SHOWN);
    assert.ok(seen.includes(fx('run.npz')), 'the labels file is watched');
    assert.deepStrictEqual(EXPECTED_STRINGS['run.npz#tokens'].values.length, 5);
  });
  it('labels that are numbers, or of the wrong count, are located errors in the manifest', async () => {
    for (const [name, re] of [
      ['labels_numbers.attention.json', /labels_numbers\.attention\.json:3:\d+: queryLabels: .*run\.npz#attentions: is not 1-D strings \(it is float32 \[2, 2, 5, 5\]\)/],
      ['labels_wrong_count.attention.json', /labels_wrong_count\.attention\.json:3:\d+: queryLabels has 4 labels but there are 3 queries/],
    ] as const) {
      const file = fx(name);
      await assert.rejects(loadSpec(fs.readFileSync(file, 'utf8'), file), (e: unknown) => e instanceof MatrixError && re.test(e.message));
    }
  });
});
