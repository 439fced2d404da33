// Opening a head (from the grid, the head table or "heads like this one"): ask the host for that head's map.
import { isAggregateKind } from '../src/shared/types';
import { post } from './host';
import { body } from './page';
import { ui } from './state';

export function openHead(layer: number, head: number): void {
  body.dataset.state = 'loading';
  // Picking a head means "show me this head": leave a head mean or rollout now, so that a view-state message
  // still in flight does not ask the host for the aggregate again.
  if (isAggregateKind(ui.kind) && ui.model) ui.kind = ui.model.defaultKind;
  post({ type: 'selectHead', layer, head });
}
