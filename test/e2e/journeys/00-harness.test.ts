// The harness itself: the packaged extension is installed in the real workbench and its commands run from the palette.
import * as assert from 'assert';
import { workbench } from '../support/hooks';
import { step } from '../support/workbench';

const J = 'harness';

describe('e2e harness: VS Code (code-server) with the packaged extension', () => {
  it('runs "Attention: Open Samples" from the palette: the bundled colours example opens', async () => {
    const wb = workbench();
    await step(J, 'open the samples README via Quick Open', () => wb.openFile('README.md'));
    await step(J, 'run "Attention: Open Samples" from the palette', () => wb.runCommand('Attention: Open Samples'));
    // The command activates the extension and shows the first worked example shipped inside the .vsix.
    await step(J, 'colours.attention.json opens', () => wb.activeTab('colours.attention.json'));
    const toast = await step(J, 'the extension offers the samples folder', () => wb.waitForNotification(/Attention Inspector/));
    assert.match(toast, /samples/i);
    await wb.screenshot('00-harness');
  });
});
