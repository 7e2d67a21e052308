// unpack_half.wgsl — one element of a packed half-precision tensor (src/ref/packed.ts: flat packing,
// element i is half (i & 1) of word i >> 1, low half first). Core WGSL only, no `shader-f16`:
// F16 through unpack2x16float; BF16 is the top half of an f32, so its 16 bits shift into place and
// bitcast (exact: every BF16 value is an f32).
fn half_to_f32(word: u32, odd: bool, is_f16: bool) -> f32 {
  if (is_f16) {
    let v = unpack2x16float(word);
    return select(v.x, v.y, odd);
  }
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, odd));
}

// Four consecutive halves (two words, low half of each first) as f32, for loads of a vec2<u32>.
fn half4_to_f32(w: vec2<u32>, is_f16: bool) -> vec4<f32> {
  if (is_f16) {
    return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
  }
  let lo = bitcast<vec2<f32>>(w << vec2<u32>(16u));
  let hi = bitcast<vec2<f32>>(w & vec2<u32>(0xffff0000u));
  return vec4<f32>(lo.x, hi.x, lo.y, hi.y);
}
