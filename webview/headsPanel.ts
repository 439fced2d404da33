// Wires the head table (heads.ts) to the host: asks for the table when a model with heads arrives (the host caches
// it per file version), follows the open head, asks for the heads like it, and passes on progress and cancel.
import type { HeadsMessage } from '../src/shared/protocol';
import { HeadTableView } from './heads';
import { post } from './host';
import { openHead } from './openHead';
import { dom } from './page';
import { persisted, ui } from './state';

let nextJob = 1;
/** The job whose table (or near list) the panel waits for; messages of other jobs are stale. */
let tableJob: number | undefined;
let nearJob: number | undefined;
let tableFor: string | undefined;
let hasTable = false;
let nearFor: string | undefined;

const view = new HeadTableView({
  open: (layer, head) => openHead(layer, head),
  cancel: () => {
    if (tableJob !== undefined) post({ type: 'cancelHeads', job: tableJob });
    if (nearJob !== undefined) post({ type: 'cancelHeads', job: nearJob });
  },
  retry: () => requestTable(),
  pickTokens: () => {
    tableJob = nextJob++;
    post({ type: 'pickTokens', job: tableJob });
  },
  changed: () => decorateGrid(),
}, persisted.get().heads ?? {}, (s) => persisted.save({ heads: s }));
dom.grid.parentElement?.append(view.section);

function requestTable(): void {
  if (tableJob !== undefined) post({ type: 'cancelHeads', job: tableJob });
  tableJob = nextJob++;
  tableFor = ui.sourceId;
  view.showProgress(0, 'Measuring heads…');
  post({ type: 'requestHeads', job: tableJob });
}

function requestNear(): void {
  const sel = ui.model?.selection;
  if (!sel || !hasTable) return;
  const key = `${ui.sourceId}\u0000${sel.layer}\u0000${sel.head}`;
  if (key === nearFor) return;
  nearFor = key;
  if (nearJob !== undefined) post({ type: 'cancelHeads', job: nearJob });
  nearJob = nextJob++;
  view.showNearProgress(0);
  post({ type: 'requestNearHeads', job: nearJob, layer: sel.layer, head: sel.head });
}

/** A model arrived: the table belongs to models with a layer × head grid. */
export function headsOnModel(): void {
  const model = ui.model;
  if (!model?.grid) {
    if (tableJob !== undefined) post({ type: 'cancelHeads', job: tableJob });
    tableJob = undefined;
    tableFor = undefined;
    hasTable = false;
    view.hide();
    return;
  }
  // A new model of the same source (another head, or the file rewritten) asks again: the host answers from its
  // cache unless the file changed.
  if (tableFor !== ui.sourceId || !hasTable) {
    hasTable = false;
    nearFor = undefined;
  }
  // A table still being measured for this source is not restarted by opening another head.
  if (!(tableJob !== undefined && tableFor === ui.sourceId)) requestTableQuietly();
  view.setSelection(model.selection);
  requestNear();
}

/** Asks for the table without hiding the one on screen (the host's cached answer replaces it at once). */
function requestTableQuietly(): void {
  if (tableJob !== undefined) post({ type: 'cancelHeads', job: tableJob });
  tableJob = nextJob++;
  tableFor = ui.sourceId;
  if (!hasTable) view.showProgress(0, 'Measuring heads…');
  post({ type: 'requestHeads', job: tableJob });
}

/** Tint and order the grid's cells by the chosen metric (after the grid is rebuilt). */
export function decorateGrid(): void {
  view.decorateGrid(dom.grid);
}

export function onHeadsMessage(msg: HeadsMessage): void {
  switch (msg.type) {
    case 'headsProgress':
      if (msg.job === tableJob) view.showProgress(msg.fraction, 'Measuring heads…');
      else if (msg.job === nearJob) view.showNearProgress(msg.fraction);
      break;
    case 'headTable':
      if (msg.job !== tableJob) break;
      tableJob = undefined;
      hasTable = true;
      view.setTable(msg.table);
      view.setSelection(ui.model?.selection);
      decorateGrid();
      nearFor = undefined;
      requestNear();
      break;
    case 'nearHeads':
      if (msg.job !== nearJob) break;
      nearJob = undefined;
      view.setNear(msg.layer, msg.head, msg.near);
      break;
    case 'headsStopped':
      if (msg.job === tableJob) {
        tableJob = undefined;
        view.showStopped(msg.message);
      } else if (msg.job === nearJob) {
        nearJob = undefined;
        const sel = ui.model?.selection;
        nearFor = undefined;
        if (sel) view.setNear(sel.layer, sel.head, undefined, msg.message);
      }
      break;
    default: {
      const never: never = msg;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}
