// The shape of every kernel descriptor: what a WGSL entry point binds, how its uniforms are packed,
// how many workgroups it needs, and the key that names each compiled variant.

/** `name:kind` in WGSL binding order (group 0). `uniform` is filled from `uniforms()`. */
export type BindingKind = 'uniform' | 'read' | 'rw';
export type Binding = `${string}:${BindingKind}`;

/** One 4-byte field of a uniform struct; structs hold scalars only, so fields pack back to back. */
export type UniformField = { u32: number } | { i32: number } | { f32: number };

export const u32 = (v: number): UniformField => ({ u32: v });
export const i32 = (v: number): UniformField => ({ i32: v });
export const f32 = (v: number): UniformField => ({ f32: v });

export interface KernelDescriptor<S> {
  /** The shader file name without `.wgsl`; also the label prefix of every GPU object. */
  readonly name: string;
  readonly wgsl: string;
  readonly entryPoint?: string;
  readonly bindings: readonly Binding[];
  uniforms?(s: S): UniformField[];
  /** Values of the shader's `override` constants (workgroup size, tile, layout flags). */
  overrides?(s: S): Record<string, number>;
  /** Workgroup counts, by pure ceil-division of the shape. */
  dispatch(s: S): [number, number, number];
  /** Encodes every compile-time choice; one pipeline is compiled per distinct key. */
  key(s: S): string;
}

/**
 * WGSL has no includes: a shader that uses functions from shaders/lib/ gets them appended here, after
 * its own text, so compiler messages keep the shader file's line numbers.
 */
export const withLib = (shader: string, ...libs: string[]): string => [shader, ...libs].join('\n');

export const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);

/** Packs uniform fields into a buffer whose size is a multiple of 16 bytes (uniform alignment). */
export function packUniforms(fields: UniformField[]): ArrayBuffer {
  const bytes = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  const buf = new ArrayBuffer(bytes);
  const view = new DataView(buf);
  fields.forEach((f, i) => {
    if ('u32' in f) view.setUint32(i * 4, f.u32, true);
    else if ('i32' in f) view.setInt32(i * 4, f.i32, true);
    else view.setFloat32(i * 4, f.f32, true);
  });
  return buf;
}

export function parseBinding(b: Binding): { name: string; kind: BindingKind } {
  const i = b.lastIndexOf(':');
  return { name: b.slice(0, i), kind: b.slice(i + 1) as BindingKind };
}

/**
 * Folds a 1-D workgroup count into (x, y) so that no dimension exceeds the per-dimension limit
 * (65535 by default). Shaders recover the flat index as `wid.x + wid.y * nwg.x`.
 */
export function fold2d(groups: number, maxPerDim = 65535): [number, number, number] {
  if (groups <= maxPerDim) return [Math.max(1, groups), 1, 1];
  const y = ceilDiv(groups, maxPerDim);
  return [ceilDiv(groups, y), y, 1];
}
