// Step 3: the method and its settings, presets, the memory estimate, and Train / Compare. Defaults
// come from the config presets (src/train/config.ts); only what the user changes is sent.
import { DEFAULT_METHOD, adapterVariant } from '../../adapters/registry';
import { PRESETS, type TrainingConfig, isCascade } from '../../train/config';
import { type StudioState, METHOD_LABEL, useStudio } from '../studioStore';
import { durationMs } from '../../worker/runSize';
import { LoadBar } from './LoadBar';
import { RunSizeChoice } from './RunSizeChoice';
import type { MemoryEstimate } from '../../worker/protocol';

type Key = keyof TrainingConfig;

function NumberField({ k, label, step, min, title }: { k: Key; label: string; step?: number; min?: number; title?: string }) {
  const value = useStudio((s) => s.settings[k]) as number | undefined;
  const setSettings = useStudio((s) => s.setSettings);
  const preset = useStudio((s) => activePreset(s)[k]) as number | undefined;
  return (
    <label title={title}>
      {label}
      <input
        type="number" step={step ?? 'any'} min={min} value={value ?? preset ?? ''} placeholder="default" data-testid={`set-${k}`}
        onChange={(e) => setSettings({ [k]: e.target.value === '' ? undefined : Number(e.target.value) } as Partial<TrainingConfig>)}
      />
    </label>
  );
}

function Select({ k, label, options }: { k: Key; label: string; options: [string, string][] }) {
  const value = useStudio((s) => s.settings[k]) as string | undefined;
  const setSettings = useStudio((s) => s.setSettings);
  return (
    <label>
      {label}
      <select value={value ?? options[0][0]} data-testid={`set-${k}`} onChange={(e) => setSettings({ [k]: e.target.value } as Partial<TrainingConfig>)}>
        {options.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
      </select>
    </label>
  );
}

function Check({ k, label, title }: { k: Key; label: string; title?: string }) {
  const value = useStudio((s) => s.settings[k]) as boolean | undefined;
  const setSettings = useStudio((s) => s.setSettings);
  return (
    <label className="check" title={title}>
      <input type="checkbox" checked={!!value} data-testid={`set-${k}`} onChange={(e) => setSettings({ [k]: e.target.checked } as Partial<TrainingConfig>)} />
      {label}
    </label>
  );
}

/** The preset that fills the fields left unset: the demo of the loaded kind, quick (CPU) or full. */
export const activePreset = (s: Pick<StudioState, 'model' | 'profile'>) => PRESETS[`${s.model.value?.kind ?? 'gpt2'}-demo${s.profile === 'quick' ? '-cpu' : ''}`];

const mmss = (ms: number) => { const t = Math.round(ms / 1000); return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`; };

/** Before Train: how long the run will take, from a timed step of its shape on this device and its size. */
function DurationEstimate() {
  const estimate = useStudio((s) => s.estimate);
  const timing = useStudio((s) => s.timing);
  const note = useStudio((s) => s.timingNote);
  if (!estimate) return null;
  const { size } = estimate;
  const what = `${size.totalSteps} steps, ${size.evaluations} evaluations of ${size.evalBatches} batches`;
  if (!timing) return <p data-testid="duration-estimate" className="note">Run size: {what}; {note ? `no timing (${note})` : 'timing one step on this device…'}</p>;
  return (
    <p data-testid="duration-estimate">
      Estimated time <strong data-testid="duration-value">{mmss(durationMs(size, timing))}</strong> ({what}; one step takes {(timing.stepMs / 1000).toFixed(2)} s on this device, measured)
    </p>
  );
}

/**
 * The frozen base weights on the GPU (docs/engineering.md#frozen-weights): a BF16/F16 checkpoint's kept 2 bytes
 * per parameter (packed) or widened to F32 — the CLI's --frozen-weights. LoRASC and COLA write the base
 * weight, so they always run F32 (the engine forces it; the select says so); F32 checkpoints and GPT-2
 * engines are F32 either way.
 */
function FrozenWeightsChoice() {
  const method = useStudio((s) => s.settings.method ?? DEFAULT_METHOD);
  const value = useStudio((s) => s.settings.frozenWeights) ?? 'stored';
  const info = useStudio((s) => s.model.value);
  const setSettings = useStudio((s) => s.setSettings);
  const cascade = isCascade({ method });
  const half = (info?.weightDtypes ?? []).filter((d) => d === 'BF16' || d === 'F16');
  const note = cascade ? `${METHOD_LABEL[method] ?? method} writes W + Δ into the base weight: frozen weights are F32 for this method (rounding back to ${half[0] ?? 'BF16'} would drop most of each merge)`
    : info?.kind === 'gpt2' || info?.kind === 'vit' ? `the ${info.kind === 'gpt2' ? 'GPT-2' : 'ViT'} engine holds its frozen weights in F32`
      : info && half.length === 0 ? `this checkpoint is stored in ${(info.weightDtypes ?? ['F32']).join('/')}: F32 either way` : null;
  return (
    <label title="BF16/F16 frozen weights packed two per u32 on the GPU (half the memory, the same loss as F32 on the rounded weights), or widened to F32">
      Frozen weights
      <select value={cascade ? 'f32' : value} disabled={cascade} data-testid="set-frozenWeights" onChange={(e) => setSettings({ frozenWeights: e.target.value as TrainingConfig['frozenWeights'] })}>
        <option value="stored">stored precision (BF16/F16 packed)</option>
        <option value="f32">F32</option>
      </select>
      {note && <span className="note" data-testid="frozenWeights-note"> {note}</span>}
    </label>
  );
}

function KeepBestFields() {
  return (
    <fieldset>
      <legend>Best weights and early stop</legend>
      <div className="row">
        <Check k="keepBest" label="Keep the best weights" title="HF load_best_model_at_end: exports and the playground use the weights of the lowest validation loss (a cascade: at an iteration end)" />
        <NumberField k="earlyStopPatience" label="Early-stop patience (evaluations, 0 = off)" step={1} min={0} title="HF EarlyStoppingCallback: stop after this many evaluations without improvement" />
      </div>
    </fieldset>
  );
}

/** PEFT suffix rule: a target matches a module name equal to it or ending with "." + it. */
const covers = (targets: readonly string[], name: string) => targets.some((t) => name === t || name.endsWith(`.${t}`));

function Targets() {
  const info = useStudio((s) => s.model.value);
  const targets = useStudio((s) => s.settings.targetModules);
  const setSettings = useStudio((s) => s.setSettings);
  if (!info) return null;
  const list = Array.isArray(targets) ? targets : typeof targets === 'string' ? [] : info.defaultTargets;
  const checked = info.moduleNames.filter((m) => covers(list, m));
  // Toggling writes the explicit module names, so unticking mlp.c_proj keeps attn.c_proj.
  const toggle = (name: string, on: boolean) => setSettings({ targetModules: on ? [...checked, name] : checked.filter((m) => m !== name) });
  return (
    <fieldset className="targets">
      <legend>Target modules (PEFT target_modules){typeof targets === 'string' ? `: regex ${targets}` : ''}</legend>
      {info.moduleNames.map((m) => (
        <label key={m} className="check">
          <input type="checkbox" checked={checked.includes(m)} onChange={(e) => toggle(m, e.target.checked)} data-testid={`target-${m}`} />
          <code>{m}</code>
        </label>
      ))}
    </fieldset>
  );
}

function LoraPlusCheck() {
  const on = useStudio((s) => s.settings.loraplusRatio != null);
  const setSettings = useStudio((s) => s.setSettings);
  return (
    <label className="check" title="LoRA+: lora_B (and 1-D tensors) learn 16× faster">
      <input type="checkbox" data-testid="set-loraplus" checked={on} onChange={(e) => setSettings({ loraplusRatio: e.target.checked ? 16 : null })} />
      LoRA+ groups (ratio 16)
    </label>
  );
}

/** Presets fill the form (src/train/config.ts PRESETS); any field can still be changed after. */
function PresetPicker() {
  const kind = useStudio((s) => s.model.value?.kind);
  const setSettings = useStudio((s) => s.setSettings);
  const names = Object.keys(PRESETS).filter((n) => n.startsWith(`${kind ?? 'gpt2'}-`));
  const describe: Record<string, string> = { demo: 'demo: short cascade iterations, quick feedback', default: 'PEFT defaults (r 8, alpha 16, docs/method.md lr)' };
  return (
    <label>
      Preset
      <select data-testid="preset" defaultValue="" onChange={(e) => { if (e.target.value) setSettings({ ...PRESETS[e.target.value] }); }}>
        <option value="">(choose to fill the form)</option>
        {names.map((n) => <option key={n} value={n}>{describe[n.split('-')[1]] ?? n}</option>)}
      </select>
    </label>
  );
}

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(n < 10 * 2 ** 20 ? 2 : 1)} MiB`;

/** The run's memory plan (src/train/memoryPlan.ts) by category, next to the device's binding limit. */
function MemoryPlanView({ estimate }: { estimate: MemoryEstimate }) {
  const p = estimate.plan;
  const limit = Math.min(estimate.limitBuffer, estimate.limitBinding);
  return (
    <div data-testid="estimate" className={estimate.fits ? '' : 'error'}>
      <p>
        GPU memory plan {MiB(estimate.bytes)}; largest buffer {MiB(estimate.largestBuffer)} of {MiB(limit)} this device binds
        {estimate.fits ? ' — fits.' : ` — ${estimate.why}`}
      </p>
      {p && (
        <ul className="note" data-testid="memory-plan">
          <li>frozen weights {MiB(p.bytes.weights)}</li>
          <li>adapter {MiB(p.bytes.trainables)}, gradients {MiB(p.bytes.gradients)}, AdamW state {MiB(p.bytes.optimizer)}</li>
          <li>activations {MiB(p.bytes.activations)} (recompute {p.recompute ? 'off' : 'on'}: {MiB(p.activationsOther)})</li>
          <li>workspace {MiB(p.bytes.workspace + p.bytes.uniforms + p.bytes.readback)}</li>
        </ul>
      )}
    </div>
  );
}

export function SettingsPanel() {
  const method = useStudio((s) => s.settings.method ?? DEFAULT_METHOD);
  // Train waits for the device: the run size (quick on a CPU adapter) depends on it.
  const ready = useStudio((s) => s.model.status === 'ready' && s.data.status === 'ready' && s.device !== undefined);
  const estimate = useStudio((s) => s.estimate);
  const train = useStudio((s) => s.train);
  const compare = useStudio((s) => s.compare);
  const form = adapterVariant(method).form;
  return (
    <section aria-labelledby="settings-heading" className="panel">
      <h2 id="settings-heading">2 · Method</h2>
      <RunSizeChoice />
      <div className="grid">
        <PresetPicker />
        <Select k="method" label="Method" options={Object.entries(METHOD_LABEL)} />
        <NumberField k="r" label="Rank r" step={1} min={1} />
        <NumberField k="loraAlpha" label="lora_alpha" />
        <NumberField k="lr" label="Learning rate" />
        <Select k="schedule" label="Schedule" options={[['cosine', 'cosine'], ['linear', 'linear'], ['constant', 'constant']]} />
        <NumberField k="warmupRatio" label="Warm-up ratio" />
        <NumberField k="epochs" label="Epochs" step={1} min={1} />
        <NumberField k="maxSteps" label="Max steps (0 = epochs)" step={1} min={0} />
        <NumberField k="batchSize" label="Batch" step={1} min={1} />
        <NumberField k="gradAccum" label="Grad accumulation" step={1} min={1} />
        <NumberField k="seqLen" label="Sequence length" step={1} min={2} />
        <NumberField k="seed" label="Seed" step={1} min={0} />
        <NumberField k="maxGradNorm" label="Clip grad norm" />
        <NumberField k="evalEvery" label="Evaluate every (steps; 0 = epoch)" step={1} min={0} />
        <FrozenWeightsChoice />
      </div>
      <div className="row">
        {!adapterVariant(method).fixed.useDora && <Check k="useDora" label="DoRA experts" />}
        <Check k="useRslora" label="rsLoRA scaling" title="s = lora_alpha / √r" />
        {!adapterVariant(method).defaults.loraplusRatio && <LoraPlusCheck />}
        <Check k="recompute" label="Recompute activations" title="hold one block's activations and recompute each block's forward in the backward: less memory, about one more forward per step, the same gradients" />
      </div>
      {form && (
        <fieldset>
          <legend>{form.legend}</legend>
          <div className="grid">
            {form.fields.map((f) => (f.kind === 'number' ? <NumberField key={f.key} k={f.key} label={f.label} title={f.title} step={f.step} min={f.min} />
              : f.kind === 'select' ? <Select key={f.key} k={f.key} label={f.label} options={f.options.map(([x, y]) => [x, y])} />
                : <Check key={f.key} k={f.key} label={f.label} />))}
          </div>
        </fieldset>
      )}
      <Targets />
      <KeepBestFields />
      {estimate && <MemoryPlanView estimate={estimate} />}
      <DurationEstimate />
      <LoadBar only="upload" />
      <div className="row">
        <button type="button" className="primary" data-testid="train" disabled={!ready} onClick={() => void train()}>Train</button>
        <button type="button" data-testid="compare" disabled={!ready} onClick={() => void compare(['lora', 'lorasc'])}>Compare LoRA vs LoRASC</button>
        <button type="button" disabled={!ready} onClick={() => void compare(['lora', 'cola', 'lorasc'])}>LoRA · COLA · LoRASC</button>
      </div>
    </section>
  );
}
