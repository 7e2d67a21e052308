// The model load's progress bar (issue 13 item 1): bytes of the weights read tensor by tensor from the picked
// folder (File.slice) or downloaded from the Hub, with MB/s, the time left and what is being read. Shown
// while the model loads and once it is loaded (the final line stays, with the load's mean speed).
import { progressLine } from '../../worker/loadProgress';
import { useStudio } from '../studioStore';

export function LoadBar() {
  const p = useStudio((s) => s.loadProgress);
  const loading = useStudio((s) => s.model.status === 'loading');
  if (!p) return null;
  const what = p.source === 'hub' ? 'downloading' : 'reading the weights';
  return (
    <p className="row" data-testid="load-progress">
      <progress aria-label="model load progress" max={p.totalBytes || 1} value={p.bytes} />{' '}
      <span data-testid="load-progress-line">{what}: {progressLine(p)}</span>
      {loading && !p.done && <span className="note" data-testid="load-progress-item"> · {p.item}</span>}
    </p>
  );
}
