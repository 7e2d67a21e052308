// The model's progress bar (issue 13 item 1): a Hub download; a folder's weights read at load (ViT); a
// streamed folder's headers (Load reads only those: the weights stay on disk); and the weights going to the
// GPU tensor by tensor whenever an engine is built from them (a run's start, generation, the parity check,
// the step-timing probe) — bytes, MB/s, the time left and the tensor being read. The last line stays.
// The source panel shows every phase; the method panel (`only="upload"`) repeats the upload next to Train,
// where the user is looking when a run starts.
import { progressLine } from '../../worker/loadProgress';
import type { LoadProgressView } from '../../worker/protocol';
import { useStudio } from '../studioStore';

const MB = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

function lineOf(p: LoadProgressView): string {
  switch (p.phase) {
    case 'download': return `downloading: ${progressLine(p)}`;
    case 'headers': return `headers read: ${p.item}, ${MB(p.totalBytes)} of weights stay on disk until a run (or generation) uploads them to the GPU`;
    case 'upload': return p.stopped
      ? `uploading weights to the GPU for ${p.purpose ?? 'an engine'}: stopped at ${MB(p.bytes)} of ${MB(p.totalBytes)}`
      : `uploading weights to the GPU for ${p.purpose ?? 'an engine'}: ${progressLine(p)}`;
    default: return `${p.source === 'hub' ? 'downloading' : 'reading the weights'}: ${progressLine(p)}`;
  }
}

export function LoadBar({ only }: { only?: 'upload' }) {
  const p = useStudio((s) => s.loadProgress);
  const loading = useStudio((s) => s.model.status === 'loading');
  if (!p || (only && p.phase !== only)) return null;
  const id = only ? 'upload-progress' : 'load-progress';
  // The current tensor while bytes are moving: during a load, and during any upload (the model is loaded then).
  const moving = !p.done && (loading || p.phase === 'upload');
  return (
    <p className="row" data-testid={id} data-phase={p.phase ?? 'read'}>
      {p.phase !== 'headers' && <><progress aria-label={p.phase === 'upload' ? `weight upload progress${only ? ' (by Train)' : ''}` : 'model load progress'} max={p.totalBytes || 1} value={p.bytes} />{' '}</>}
      <span data-testid={`${id}-line`}>{lineOf(p)}</span>
      {moving && <span className="note" data-testid={`${id}-item`}> · {p.item}</span>}
    </p>
  );
}
