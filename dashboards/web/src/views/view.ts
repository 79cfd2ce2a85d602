import type { Api } from '../api';
import type { Live } from '../live';
import type { BoardState } from '../state';
import type { Me } from '../types';
import type { ViewParams } from '../url-state';

export interface Ctx {
  api: Api;
  me: Me;
  state: BoardState;
  live: Live;
  window: () => string;
  setWindow: (w: string) => void;
  author: string;
  go: (hash: string) => void;
  /** the view's state in the URL (url-state.ts) */
  params: () => ViewParams;
  /** change it: the URL follows (replaced, not a new history entry), the view redraws */
  setParams: (changes: Partial<ViewParams>) => void;
  /** show an error or confirmation line */
  toast: (msg: string, kind?: 'ok' | 'err') => void;
}

export interface View {
  el: HTMLElement;
  /** called once per animation frame when something changed */
  render(): void;
  destroy?(): void;
}
