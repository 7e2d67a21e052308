// The opt-in Hugging Face Hub source, beside the local-folder picker: off until the user ticks it. A
// repo id (and revision, and a token only for gated or private repos) → the worker downloads the
// model's files (src/io/hub) with a progress row per file, or reads them from this browser's cache.
// The token lives in this component's state for this load only: never saved, sent to the Hub alone.
import { useState, type FormEvent } from 'react';
import { parseRepoRef } from '../../io/hub/repoId';
import type { HubProgress } from '../../io/hub/download';
import { useStudio } from '../studioStore';

const mb = (n: number) => (n / 1e6).toFixed(n < 1e7 ? 2 : 1);

function ProgressRow({ p }: { p: HubProgress }) {
  const status = p.state === 'cached' ? 'from this browser\'s cache'
    : `${p.state === 'done' ? 'done' : 'downloading'}${p.bytesPerSec ? `, ${mb(p.bytesPerSec)} MB/s` : ''}`;
  return (
    <tr data-testid={`hub-file-${p.file}`} data-state={p.state}>
      <td><code>{p.file}</code></td>
      <td><progress max={p.total ?? undefined} value={p.total !== null ? p.loaded : undefined} aria-label={`${p.file} progress`} /></td>
      <td>{mb(p.loaded)}{p.total !== null ? ` / ${mb(p.total)}` : ''} MB</td>
      <td>{status}</td>
    </tr>
  );
}

export function HubSource() {
  const [enabled, setEnabled] = useState(false);
  const [repo, setRepo] = useState('');
  const [revision, setRevision] = useState('main');
  const [token, setToken] = useState('');
  const hub = useStudio((s) => s.hub);
  const loadHub = useStudio((s) => s.loadHub);
  const cancelHub = useStudio((s) => s.cancelHub);
  const ref = repo.trim() ? parseRepoRef(repo, revision) : null;
  const busy = hub?.active === true;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (ref && !('error' in ref) && !busy) void loadHub(ref.repo, ref.revision, token.trim());
  };
  return (
    <div className="hub" data-testid="hub-source">
      <label className="row">
        <input type="checkbox" data-testid="hub-enable" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        <strong>Download from the Hugging Face Hub</strong>
      </label>
      {enabled && (
        <form onSubmit={submit} className="hub-form">
          <p className="note" data-testid="hub-note">
            Only the model's own files (config.json, the safetensors weights, tokenizer files) are fetched from
            huggingface.co and its download servers; none of your data is sent. They are kept in this browser's
            cache, so the next load of the same revision works offline.
          </p>
          <div className="row">
            <label>Model id <input data-testid="hub-repo" value={repo} onChange={(e) => setRepo(e.target.value)} placeholder="HuggingFaceTB/SmolLM2-135M" spellCheck={false} autoComplete="off" /></label>
            <label>Revision <input data-testid="hub-revision" value={revision} onChange={(e) => setRevision(e.target.value)} size={10} spellCheck={false} autoComplete="off" /></label>
          </div>
          <div className="row">
            <label>Access token (gated or private repos only; sent to the Hub alone, never stored){' '}
              <input type="password" data-testid="hub-token" value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" placeholder="hf_…" />
            </label>
          </div>
          <div className="row">
            <button type="submit" data-testid="hub-download" disabled={!ref || 'error' in ref || busy}>Download and load</button>
            {busy && <button type="button" data-testid="hub-cancel" onClick={() => void cancelHub()}>Cancel</button>}
            {ref && 'error' in ref && <span className="warn" data-testid="hub-repo-error">{ref.error}</span>}
          </div>
          {hub && hub.order.length > 0 && (
            <table data-testid="hub-progress" className="hub-progress">
              <caption className="note">{hub.repo}{busy ? '' : ' — finished'}</caption>
              <tbody>{hub.order.map((f) => <ProgressRow key={f} p={hub.files[f]} />)}</tbody>
            </table>
          )}
        </form>
      )}
    </div>
  );
}
