type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

/** Tiny element builder: attributes, `on*` listeners, and text children (never innerHTML). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children)
    if (c !== null && c !== undefined && c !== false)
      el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

/** A small button that runs `act` when clicked and hands a failure to `onError` (a toast). */
export function actionButton(
  label: string,
  testId: string,
  act: () => Promise<unknown>,
  onError: (e: unknown) => void,
): HTMLButtonElement {
  return h(
    'button',
    {
      class: 'btn ghost small',
      'data-testid': testId,
      onclick: () => void act().catch(onError),
    },
    label,
  );
}

/** Set text only when it changed, and flash the cell so a live number is visibly live. */
export function setText(el: HTMLElement, text: string, flash = false): void {
  if (el.textContent === text) return;
  el.textContent = text;
  if (flash) {
    el.classList.remove('flash');
    void el.offsetWidth; // restart the animation
    el.classList.add('flash');
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The same for SVG elements (the map, sparklines): attributes and children, no innerHTML. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children)
    if (c !== null && c !== undefined && c !== false)
      el.append(typeof c === 'number' ? String(c) : c);
  return el;
}
