// Child process of test/node/f16_shaders.test.ts: compiles WGSL on Dawn's null backend (the `webgpu` package),
// which offers `shader-f16`, and prints one line `RESULT {json}`: whether the adapter has shader-f16 and, per
// job, its compile and pipeline-creation errors. Input on stdin: [{ code, constants }]. It runs in its own
// process because Dawn's Node bindings now and then take their process down (src/gpu/nodeGpu.ts; two clean-clone
// CI runs lost the test's vitest worker that way), which must not take a test worker with it.
import { readFileSync, writeSync } from 'node:fs';
import { create, globals } from 'webgpu';

for (const [k, v] of Object.entries(globals)) globalThis[k] ??= v;
const jobs = JSON.parse(readFileSync(0, 'utf8'));
// Dawn's promises do not hold Node's event loop open: without a handle of its own, the process can begin to exit
// in the middle of an await and abort inside Dawn (seen: SIGSEGV, SIGABRT in a futex).
const keepAlive = setInterval(() => {}, 1000);
const adapter = await create(['backend=null']).requestAdapter();
const hasF16 = !!adapter?.features.has('shader-f16');
const device = await adapter.requestDevice({ requiredFeatures: hasF16 ? ['shader-f16'] : [] });
const results = [];
for (const { code, constants } of jobs) {
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  const out = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}: ${m.message}`);
  device.pushErrorScope('validation');
  device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main', constants } });
  const err = await device.popErrorScope();
  if (err) out.push(`pipeline: ${err.message}`);
  results.push(out);
}
device.destroy();
// Written synchronously: the process can abort on its way out (glibc's "futex facility returned an unexpected error
// code" from Dawn's threads at exit, seen here), and a pending pipe write would be lost with it.
writeSync(1, `RESULT ${JSON.stringify({ hasF16, results })}\n`);
clearInterval(keepAlive);
