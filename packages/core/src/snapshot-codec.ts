/**
 * Container of an engine snapshot:
 *   [0]      version (u8)
 *   [1..4]   header length, u32 little-endian
 *   header   UTF-8 JSON: { ...engine header, parts: [[name, type, length], ...] }
 *   padding  to a multiple of 8
 *   parts    each typed array's bytes, each padded to 8 (so restore can view them in place)
 * Typed arrays are written in the machine's byte order, little-endian on every platform Node
 * ships for; a big-endian reader would need a byte swap.
 */
export type Part = Int32Array | Float64Array | Uint16Array;
export type SnapshotParts = Record<string, Part>;

const TYPES = { i32: Int32Array, f64: Float64Array, u16: Uint16Array } as const;
type TypeName = keyof typeof TYPES;

export function encodeSnapshot(version: number, header: object, parts: SnapshotParts): Uint8Array {
  const dir: [string, TypeName, number][] = [];
  let bodyBytes = 0;
  for (const [name, a] of Object.entries(parts)) {
    dir.push([
      name,
      a instanceof Float64Array ? 'f64' : a instanceof Uint16Array ? 'u16' : 'i32',
      a.length,
    ]);
    bodyBytes += pad8(a.byteLength);
  }
  const json = new TextEncoder().encode(JSON.stringify({ ...header, parts: dir }));
  const headEnd = pad8(5 + json.length);
  const out = new Uint8Array(headEnd + bodyBytes);
  out[0] = version;
  new DataView(out.buffer).setUint32(1, json.length, true);
  out.set(json, 5);
  let at = headEnd;
  for (const a of Object.values(parts)) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += pad8(a.byteLength);
  }
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): {
  version: number;
  header: Record<string, unknown>;
  parts: Partial<SnapshotParts>;
} {
  if (bytes.length < 5) throw new Error('engine snapshot: truncated');
  const version = bytes[0]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLen = view.getUint32(1, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(5, 5 + jsonLen))) as Record<
    string,
    unknown
  > & { parts: [string, TypeName, number][] };
  let at = pad8(5 + jsonLen);
  const parts: Partial<SnapshotParts> = {};
  for (const [name, type, length] of header.parts) {
    const T = TYPES[type];
    const byteLength = length * T.BYTES_PER_ELEMENT;
    if (at + byteLength > bytes.length) throw new Error('engine snapshot: truncated part ' + name);
    // copy: the caller's buffer may be unaligned or reused
    const copy = new Uint8Array(byteLength);
    copy.set(bytes.subarray(at, at + byteLength));
    parts[name] = new T(copy.buffer);
    at += pad8(byteLength);
  }
  return { version, header, parts };
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}
