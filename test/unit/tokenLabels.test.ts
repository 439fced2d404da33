// Token labels stored beside dumps (.npz members, safetensors __metadata__) and how tokens are displayed.
import * as assert from 'assert';
import { MatrixError } from '../../src/core/ndarray';
import * as path from 'path';
import { readLabels, readTokens, tokenLabels, tokensBeside } from '../../src/core/tokens';
import { labelToken, labelTokens } from '../../src/shared/tokens';
import { openMatrix } from '../../src/core/matrixFile';
import { buildModelFromDump } from '../../src/core/view/model';
import { withTokenLabels } from '../../src/core/view/tokenModel';
import { EXPECTED_STRINGS, formatsFixture as fx } from '../fixtures/formats/fixtures';

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MatrixError, `expected a MatrixError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

const TOKENS = EXPECTED_STRINGS['run.npz#tokens'].values;

describe('tokenLabels: tokens saved beside a dump', () => {
  it('an .npz `tokens` member labels both axes (stored and deflated)', async () => {
    for (const f of ['run.npz', 'run_compressed.npz']) {
      const t = await tokenLabels(fx(f), { queries: 5, keys: 5 });
      assert.deepStrictEqual(t, { queryLabels: TOKENS, keyLabels: TOKENS, source: `${f}#tokens`, warnings: [] });
    }
  });
  it('query_tokens and key_tokens label their own axes (bytes decoded as UTF-8)', async () => {
    const t = await tokenLabels(fx('cross.npz'), { queries: 3, keys: 4 });
    assert.deepStrictEqual(t.queryLabels, ['Le', 'Ġchat', '.']);
    assert.deepStrictEqual(t.keyLabels, ['The', ' cat', 'sat', '\n']);
    assert.strictEqual(t.source, 'cross.npz#query_tokens, cross.npz#key_tokens');
  });
  it('a safetensors __metadata__ "tokens" JSON array', async () => {
    const t = await tokenLabels(fx('run_bf16.safetensors'), { queries: 5, keys: 5 });
    assert.deepStrictEqual(t.queryLabels, TOKENS);
    assert.deepStrictEqual(t.keyLabels, TOKENS);
    assert.strictEqual(t.source, 'run_bf16.safetensors __metadata__ "tokens"');
  });
  it('labels that do not fit the axis: a warning and numbered axes, not an error', async () => {
    const t = await tokenLabels(fx('short_tokens.npz'), { queries: 5, keys: 5 });
    assert.strictEqual(t.queryLabels, undefined);
    assert.strictEqual(t.keyLabels, undefined);
    assert.deepStrictEqual(t.warnings, [
      'short_tokens.npz#tokens has 4 tokens but the map has 5 queries; the queries are numbered instead',
      'short_tokens.npz#tokens has 4 tokens but the map has 5 keys; the keys are numbered instead',
    ]);
  });
  it('no tokens: nothing, quietly', async () => {
    assert.deepStrictEqual(await tokenLabels(fx('single.safetensors')), { queryLabels: undefined, keyLabels: undefined, warnings: [] });
    assert.deepStrictEqual(await tokenLabels(fx('u_le.npy')), { queryLabels: undefined, keyLabels: undefined, warnings: [] });
  });
  it('a `tokens` that is not 1-D strings is one clear error', async () => {
    await rejects(tokenLabels(fx('bad/tokens_numeric.npz')), /tokens_numeric\.npz: member "tokens" is not 1-D strings \(it is int64 \[5\]\)/);
    await rejects(tokenLabels(fx('bad/tokens_2d.npz')), /tokens_2d\.npz: member "tokens" is not 1-D strings \(it is <U4 \[2, 5\]\)/);
    await rejects(tokenLabels(fx('bad/bad_tokens_metadata.safetensors')), /bad_tokens_metadata\.safetensors: __metadata__ "tokens" is not a JSON array of strings/);
  });
  it('readLabels reads a .npy or an .npz member, and refuses numbers', async () => {
    assert.deepStrictEqual(await readLabels(fx('u_be.npy')), ['big', 'endian', '✓']);
    assert.deepStrictEqual(await readLabels(`${fx('run.npz')}#tokens`), TOKENS);
    await rejects(readLabels(`${fx('run.npz')}#attentions`), /run\.npz#attentions: is not 1-D strings \(it is float32 \[2, 2, 5, 5\]\)/);
  });
});

describe('labelToken: tokens as a person reads them', () => {
  const cases: [string, string][] = [
    [' cat', '␣cat'], ['Ġcat', '␣cat'], ['▁cat', '␣cat'], ['cat', 'cat'], ['New▁York', 'New York'],
    ['ĠĠ', '␣␣'], ['end ', 'end␣'], ['\n', '⏎'], ['Ċ', '⏎'], ['ĊĊ', '⏎⏎'], ['a\r\nb', 'a⏎b'], ['\t', '⇥'],
    ['', '∅'], ['a\u0000b', 'a␀b'], ['<s>', '<s>'], ['é🙂', 'é🙂'], ['Ġ\n', '␣⏎'],
  ];
  for (const [token, shown] of cases) {
    it(`${JSON.stringify(token)} → ${shown}`, () => assert.strictEqual(labelToken(token), shown));
  }
  it('maps a list', () => assert.deepStrictEqual(labelTokens(TOKENS), ['<s>', '␣The', '␣cat', '␣sat', '.']));
});

describe('withTokenLabels: a dump model gets its tokens on the axes', () => {
  it('the .npz and the safetensors run label every head with the displayed tokens', async () => {
    for (const f of ['run.npz#attentions', 'run_bf16.safetensors']) {
      const h = await openMatrix(fx(f));
      try {
        const model = await withTokenLabels(await buildModelFromDump(h, { layer: 1, head: 1 }, { cellSize: 5 }), fx(f.split('#')[0]));
        assert.deepStrictEqual(model.queryLabels, ['<s>', '␣The', '␣cat', '␣sat', '.'], f);
        assert.deepStrictEqual(model.keyLabels, model.queryLabels, f);
        assert.match(model.subtitle ?? '', /tokens: run(_bf16)?\.(npz#tokens|safetensors __metadata__ "tokens")/);
      } finally {
        await h.close();
      }
    }
  });
  it('tokens that do not fit, or are not strings, are warnings and the map still opens', async () => {
    for (const [f, re] of [
      ['short_tokens.npz', /short_tokens\.npz#tokens has 4 tokens but the map has 5 queries/],
      ['bad/tokens_numeric.npz', /member "tokens" is not 1-D strings \(it is int64 \[5\]\).*; the axes are numbered instead/],
    ] as const) {
      const h = await openMatrix(`${fx(f)}#attentions`);
      try {
        const model = await withTokenLabels(await buildModelFromDump(h, undefined, { cellSize: 5 }), fx(f));
        assert.strictEqual(model.queryLabels, undefined);
        assert.ok(model.warnings.some((w) => re.test(w)), `${f}: ${model.warnings.join(' | ')}`);
        assert.ok(model.kinds.weights, 'the map is there');
      } finally {
        await h.close();
      }
    }
  });
});

describe('labelToken follows the token view for everything but edge spaces', () => {
  it('bidirectional controls are escaped and very long tokens cut, as in the token view', () => {
    assert.strictEqual(labelToken('a\u202eb'), 'a\\u{202e}b');
    assert.strictEqual(Array.from(labelToken('x'.repeat(200))).length, 81);
  });
});

describe('tokens for the head metrics, saved beside the maps', () => {
  const samples = path.join(__dirname, '..', '..', '..', 'samples');
  const gpt2 = ['<|endoftext|>', 'The', 'Ġcat', 'Ġsat', 'Ġon'];

  it('reads the string tokens member of an .npz and the __metadata__ tokens of a safetensors file', async () => {
    const npz = await tokensBeside(path.join(samples, 'run-with-tokens.npz#attentions'));
    assert.deepStrictEqual(npz.tokens?.slice(0, 5), gpt2);
    assert.strictEqual(npz.tokens?.length, 12);
    const st = await tokensBeside(path.join(samples, 'run-with-tokens.safetensors#attentions'));
    assert.deepStrictEqual(st.tokens, npz.tokens);
    assert.deepStrictEqual(await readTokens(path.join(samples, 'run-with-tokens.npz#tokens')), npz.tokens);
  });

  it('gives nothing for a file without tokens and for the tokens member itself', async () => {
    assert.deepStrictEqual(await tokensBeside(path.join(samples, 'qkv-bundle.npz#q')), {});
    assert.deepStrictEqual(await tokensBeside(path.join(samples, 'run-with-tokens.npz#tokens')), {});
  });
});
