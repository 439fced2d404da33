// The harness itself: the packaged extension is installed in the real workbench and its commands run from the palette.
import * as assert from 'assert';
import { workbench } from '../support/hooks';
import { step, waitFor } from '../support/workbench';

const J = 'harness';

describe('e2e harness: VS Code (code-server) with the packaged extension', () => {
  it('lists the installed extension and runs one of its commands from the palette', async () => {
    const wb = workbench();
    await step(J, 'open the samples README via Quick Open', () => wb.openFile('README.md'));
    await step(J, 'run "Attention: Open Samples" from the palette', () => wb.runCommand('Attention: Open Samples'));
    // Whatever the command does (opens a file, a panel, or says it is not ready), the extension must have activated:
    // an activation failure shows as an error notification naming the extension.
    await step(J, 'the command took effect', async () => {
      await waitFor('the extension to respond', async () => {
        const toasts = await wb.notifications();
        const failed = toasts.find((t) => /activat|attention-inspector.*(fail|error)/i.test(t));
        if (failed) throw new Error(`activation failed: ${failed}`);
        const tabs = await wb.page.locator('.tab').count();
        return toasts.some((t) => /Attention Inspector/i.test(t)) || tabs > 1 || (await wb.webviewFrames('#heatmap')).length > 0
          ? true : undefined;
      }, 20_000);
    });
    await wb.screenshot('00-harness');
    assert.ok(true);
  });
});
