import type { Api } from '../api';
import type { Live } from '../live';
import type { BoardState } from '../state';
import type { Me } from '../types';

export interface Ctx {
  api: Api;
  me: Me;
  state: BoardState;
  live: Live;
  window: () => string;
  setWindow: (w: string) => void;
  author: string;
  go: (hash: string) => void;
  /** show an error or confirmation line */
  toast: (msg: string, kind?: 'ok' | 'err') => void;
}

export interface View {
  el: HTMLElement;
  /** called once per animation frame when something changed */
  render(): void;
  destroy?(): void;
}
