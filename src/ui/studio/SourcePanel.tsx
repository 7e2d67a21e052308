// Step 1 and 2: the model and the data. The built-in demos load with one click (the GPT demo at
// start-up); a model folder or a dataset comes in by picker or drag-and-drop. Previews show what was
// parsed and what was rejected, with reasons. Every string from a file is rendered as text.
import { useRef, useState, type DragEvent } from 'react';
import { useStudio } from '../studioStore';
import { HubSource } from './HubSource';
import { LoadBar } from './LoadBar';

async function filesFromDrop(e: DragEvent): Promise<File[]> {
  const out: File[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      Object.defineProperty(file, 'webkitRelativePath', { value: `${prefix}${file.name}` });
      out.push(file);
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const c of batch) await walk(c, `${prefix}${entry.name}/`);
      }
    }
  };
  const items = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry()).filter((x): x is FileSystemEntry => !!x);
  for (const it of items) await walk(it, '');
  return out;
}

function DropZone({ label, testId, onFiles, directory, accept }: { label: string; testId: string; onFiles: (f: File[], label: string) => void; directory: boolean; accept?: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const dirProps = directory ? ({ webkitdirectory: '', directory: '' } as Record<string, string>) : {};
  return (
    <div
      className={`drop${over ? ' over' : ''}`}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={async (e) => { e.preventDefault(); setOver(false); const f = await filesFromDrop(e); if (f.length) onFiles(f, f[0].webkitRelativePath.split('/')[0] || f[0].name); }}
    >
      <span>{label}</span>
      <button type="button" onClick={() => input.current?.click()}>Choose…</button>
      <input
        ref={input} type="file" hidden multiple={directory} data-testid={testId} accept={accept} {...dirProps}
        onChange={(e) => { const f = [...(e.target.files ?? [])]; if (f.length) onFiles(f, f[0].webkitRelativePath.split('/')[0] || f[0].name); e.target.value = ''; }}
      />
    </div>
  );
}

const KIND_NAME = { gpt2: 'GPT-2', vit: 'ViT', llama: 'Llama' } as const;
/** What the data drop zone takes: text (chat rows too when the model has a chat template), or an image folder. */
function dataLabel(kind: 'gpt2' | 'vit' | 'llama', chat: boolean): string {
  if (kind === 'vit') return 'Training images: a folder with one subfolder per class';
  return `Training text: .jsonl (${chat ? 'chat {"messages"} / ShareGPT {"conversations"}, ' : ''}{"text"}, alpaca {"instruction","input","output"}), .csv, or any UTF-8 text file (.txt, README, LICENSE, …)`;
}

export function SourcePanel() {
  const model = useStudio((s) => s.model);
  const data = useStudio((s) => s.data);
  const loadDemo = useStudio((s) => s.loadDemo);
  const loadModelFiles = useStudio((s) => s.loadModelFiles);
  const loadDataFiles = useStudio((s) => s.loadDataFiles);
  const kind = model.value?.kind;
  return (
    <section aria-labelledby="source-heading" className="panel">
      <h2 id="source-heading">1 · Model and data</h2>
      <div className="row" role="tablist" aria-label="Built-in demos">
        <button type="button" role="tab" aria-selected={model.value?.label === 'built-in gpt2-fortunes'} data-testid="demo-gpt2" onClick={() => loadDemo('gpt2-fortunes')}>Demo GPT-2 · fortunes</button>
        <button type="button" role="tab" aria-selected={model.value?.label === 'built-in vit-mnist'} data-testid="demo-vit" onClick={() => loadDemo('vit-mnist')}>Demo ViT · rotated digits</button>
        <button type="button" role="tab" aria-selected={model.value?.label === 'built-in llama-fortunes'} data-testid="demo-llama" onClick={() => loadDemo('llama-fortunes')}>Demo Llama · chat definitions</button>
      </div>
      <DropZone label="…or your own HF model folder (config.json, *.safetensors, tokenizer / preprocessor files)" testId="model-input" directory onFiles={loadModelFiles} />
      <HubSource />
      {model.status === 'loading' && <p className="row" data-testid="model-loading"><progress aria-label="model loading" /> Loading the model: reading the weights, checking every tensor…</p>}
      <LoadBar />
      {model.status === 'error' && <p role="alert" className="error">Model refused: {model.error}</p>}
      {model.value && (
        <p data-testid="model-info">
          <strong>{model.value.label}</strong>: {KIND_NAME[model.value.kind]}, {model.value.layers} layers,{' '}
          {(model.value.parameters / 1e6).toFixed(2)} M parameters{model.value.classes ? `, ${model.value.classes.length} classes` : ''}
          {model.value.hub && (
            <span className="note" data-testid="model-hub">
              {' '}· Hub commit {model.value.hub.commit.slice(0, 10)}, {(model.value.hub.bytes / 1e6).toFixed(1)} MB{' '}
              {model.value.hub.from === 'cache' ? `from this browser's cache${model.value.hub.offline ? ' (the Hub was not reachable)' : ''}` : 'downloaded'}
            </span>
          )}
          {model.value.warnings.length > 0 && <span className="warn"> ({model.value.warnings.length} warnings: {model.value.warnings[0]})</span>}
        </p>
      )}
      {kind && (
        <DropZone
          label={dataLabel(kind, !!model.value?.chatTemplate)}
          testId="data-input" directory={kind === 'vit'} onFiles={loadDataFiles}
        />
      )}
      {data.status === 'loading' && <p className="row" data-testid="data-loading"><progress aria-label="data loading" /> Reading the data: parsing and tokenizing…</p>}
      {data.status === 'error' && <p role="alert" className="error">Data refused: {data.error}</p>}
      {data.value && (
        <div data-testid="data-preview" className="preview">
          <strong>{data.value.label}</strong>
          <ul>{data.value.lines.map((l) => <li key={l}>{l}</li>)}</ul>
          {data.value.chat && data.value.chat.length > 0 && (
            <details open data-testid="chat-preview"><summary>Rendered conversations (<mark className="trained">highlighted</mark>: trained tokens)</summary>
              {data.value.chat.map((segs, i) => (
                <pre key={i} className="chat-render">{segs.map((g, k) => (g.trained ? <mark key={k} className="trained">{g.text}</mark> : <span key={k}>{g.text}</span>))}</pre>
              ))}
            </details>
          )}
          {!data.value.chat && data.value.samples.length > 0 && (
            <details><summary>Examples</summary><ul>{data.value.samples.map((s, i) => <li key={i}><code>{s}</code></li>)}</ul></details>
          )}
          {data.value.rejected.length > 0 && (
            <details open><summary className="warn">{data.value.rejected.length} rejected</summary>
              <ul className="rejected-list" data-testid="data-rejected">{data.value.rejected.map((r, i) => <li key={i}>{r.where}: {r.reason}</li>)}</ul>
            </details>
          )}
        </div>
      )}
    </section>
  );
}
