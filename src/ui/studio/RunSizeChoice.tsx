// The run size of the demo presets, chosen from the device and always shown: on a CPU implementation of
// WebGPU (no GPU found) the quick preset, so the one-click demo finishes in minutes; on a GPU the full one.
// Either can be picked; the fields the user left unset show the chosen preset's values.
import { useStudio } from '../studioStore';

export function RunSizeChoice() {
  const device = useStudio((s) => s.device);
  const profile = useStudio((s) => s.profile);
  const setProfile = useStudio((s) => s.setProfile);
  return (
    <div data-testid="run-size">
      {device?.software && (
        <p className="notice" data-testid="cpu-notice">
          No GPU found: WebGPU is running on the CPU ({device.evidence}). The demo uses the quick preset — a short
          run that finishes in a few minutes; pick “full” for the whole run.
        </p>
      )}
      <div className="row">
        <span>Run size</span>
        <span className="segmented" role="radiogroup" aria-label="Run size">
          <button type="button" role="radio" aria-checked={profile === 'quick'} aria-selected={profile === 'quick'} data-testid="profile-quick" onClick={() => setProfile('quick')}>quick (CPU)</button>
          <button type="button" role="radio" aria-checked={profile === 'full'} aria-selected={profile === 'full'} data-testid="profile-full" onClick={() => setProfile('full')}>full</button>
        </span>
        <span className="note">{device ? (device.software ? '' : 'a GPU: the full preset') : 'detecting the device…'}</span>
      </div>
    </div>
  );
}
