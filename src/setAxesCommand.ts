/**
 * Set Axes…: name the axes of the dump on screen ("layer,batch,head,query,key"), when the file does not say or
 * the guess is wrong. The choice is remembered per file (workspaceState, keyed by the file's ref) and wins over
 * the file's own names and the guess (SourceEnv.axesOf).
 */
import * as vscode from 'vscode';
import { activeController } from './commandDeps';
import type { CommandDeps } from './commandDeps';
import { MatrixError } from './core/ndarray';
import { dumpAxes, parseAxisNames } from './core/view/dumpAxes';

const AXES_KEY = 'attentionInspector.axes';
/** Files remembered at most (the oldest choice is forgotten first). */
const MAX_REMEMBERED = 200;

type AxesMap = Record<string, string[]>;

/** The stored map, checked entry by entry (workspaceState survives versions and hand edits). */
function storedAxes(state: vscode.Memento): AxesMap {
  const raw = state.get<unknown>(AXES_KEY);
  const out: AxesMap = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return out;
  for (const [ref, names] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(names) && names.length <= 64 && names.every((n) => typeof n === 'string' && n.length > 0 && n.length < 100)) out[ref] = names as string[];
  }
  return out;
}

/** The axis names the user chose for `ref`, if any (SourceEnv.axesOf). */
export function rememberedAxes(state: vscode.Memento, ref: string): string[] | undefined {
  return storedAxes(state)[ref];
}

/** `namesArg`: the names as text (tests, keybindings); "" forgets the choice. Without it, an input box asks. */
export async function setAxes(deps: CommandDeps, namesArg: unknown): Promise<void> {
  const controller = activeController(deps);
  const model = controller?.model;
  const shape = model?.info.shape;
  const ref = model?.info.file;
  if (!controller || !model?.axisNames || !shape || !ref) {
    void vscode.window.showInformationMessage('Attention Inspector: Set Axes… names the axes of a dump of rank 3 or more; open one first.');
    return;
  }
  const check = (text: string): string | undefined => {
    if (text.trim() === '') return undefined;
    try {
      dumpAxes(shape, parseAxisNames(text), 'user');
      return undefined;
    } catch (e) {
      return e instanceof MatrixError ? e.problem : String(e);
    }
  };
  let text: string | undefined = typeof namesArg === 'string' ? namesArg : undefined;
  if (text === undefined) {
    text = await vscode.window.showInputBox({
      title: 'Set Axes', value: model.axisNames.join(','), ignoreFocusOut: true,
      prompt: `Names of the ${shape.length} axes of ${shape.join('×')}, comma-separated: "layer" and "head" make the grid, other axes get a picker, the last two are the map. Empty: the file's names or the guess.`,
      validateInput: check,
    });
    if (text === undefined) return;
  }
  const problem = check(text);
  if (problem) throw new MatrixError(problem, ref);
  const state = deps.context.workspaceState;
  const all = storedAxes(state);
  delete all[ref];
  if (text.trim() !== '') all[ref] = parseAxisNames(text);
  const refs = Object.keys(all);
  for (const old of refs.slice(0, Math.max(0, refs.length - MAX_REMEMBERED))) delete all[old];
  await state.update(AXES_KEY, all);
  await controller.reload();
}
