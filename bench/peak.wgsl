// peak.wgsl — the device's f32 multiply-add rate, the ceiling matmul GFLOP/s is read against (bench --device).
// Each thread runs ITERS rounds of 16 independent vec4 fma chains (eight accumulators, two updates each),
// enough independent work to hide the fma latency, then writes one sum so nothing is optimised away.
override ITERS: u32 = 1024u;

@group(0) @binding(0) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let x = f32(i % 7u) * 1e-3;
  let m = vec4<f32>(0.9999, 0.9998, 0.9997, 0.9996);
  let d = vec4<f32>(1e-4) * x;
  var a0 = vec4<f32>(x); var a1 = a0 + 1.0; var a2 = a0 + 2.0; var a3 = a0 + 3.0;
  var a4 = a0 + 4.0; var a5 = a0 + 5.0; var a6 = a0 + 6.0; var a7 = a0 + 7.0;
  for (var k = 0u; k < ITERS; k++) {
    a0 = fma(a0, m, d); a1 = fma(a1, m, d); a2 = fma(a2, m, d); a3 = fma(a3, m, d);
    a4 = fma(a4, m, d); a5 = fma(a5, m, d); a6 = fma(a6, m, d); a7 = fma(a7, m, d);
    a0 = fma(a0, m, d); a1 = fma(a1, m, d); a2 = fma(a2, m, d); a3 = fma(a3, m, d);
    a4 = fma(a4, m, d); a5 = fma(a5, m, d); a6 = fma(a6, m, d); a7 = fma(a7, m, d);
  }
  let s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  out[i] = s.x + s.y + s.z + s.w;
}
