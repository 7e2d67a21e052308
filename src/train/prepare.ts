// From the user's files to TaskData, the same way in the studio's worker and in the CLI page:
// text → parse (txt/jsonl/csv) → tokenise into T-token sequences → seeded train/val split;
// image folder → classes → decode (the caller's decoder: canvas in a browser) → preprocess → split.
// Every step reports what it rejected and why; nothing is dropped silently.
import {
  type ImageFolder, type Rejected, type RejectedFile, type TextFormat, buildLmSequences, listImageFolder, lmTokenizer, parseTextDataset, splitTrainVal,
} from '../io/datasets';
import { type ChatTemplate, type PreviewSegment, buildChatSequences, noTemplateMessage, previewSegments, renderWithSpans, tokenOffsets } from '../io/chat';
import { DatasetError } from '../io/datasets/errors';
import { type PixelImage, type PreprocessorConfig, preprocessImage, VIT_PROCESSOR_DEFAULTS } from '../io/preprocess';
import type { TextTokenizer } from '../io/tokenizer';
import type { VitConfig } from '../io/hfModel/config';
import { type ImageExample, type LmExample, type TaskData, imageTaskData, lmTaskData } from './data';

export interface TextPreview {
  kind: 'text';
  file: string;
  format: string;
  examples: number;
  sequences: number;
  tokens: number;
  trainedTokens: number;
  truncated: number;
  rejected: Rejected[];
  sample: string[];
  /** A chat .jsonl: the template's source, the first conversations rendered with their trained spans, and
   *  the lines of the conversations cut to T + 1 tokens. */
  chat?: { template: string; samples: PreviewSegment[][]; truncatedLines: number[] };
}

/** Conversations the data preview shows rendered. */
const CHAT_SAMPLES = 3;

/**
 * A text dataset as training sequences. A chat .jsonl is rendered with `chatTemplate` (the model's, or one
 * the user supplied) and trained on the assistant tokens only; without a template it is refused.
 */
export function prepareText(
  bytes: Uint8Array | ArrayBuffer, fileName: string, tokenizer: TextTokenizer, T: number, valFraction: number, seed: number,
  format?: TextFormat, chatTemplate?: ChatTemplate | null,
): { data: TaskData<LmExample, Uint32Array>; preview: TextPreview } {
  const ds = parseTextDataset(bytes, fileName, { format });
  if (ds.chats !== undefined) {
    if (!chatTemplate) throw new DatasetError('DATA_ARGS', fileName, noTemplateMessage(fileName));
    const seqs = buildChatSequences(ds.chats, fileName, chatTemplate, tokenOffsets(tokenizer), tokenizer.eosTokenId, T);
    const rejected = [...ds.rejected, ...seqs.rejected].sort((a, b) => a.line - b.line);
    if (seqs.ids.length === 0) {
      const first = rejected[0];
      throw new DatasetError('DATA_EMPTY', fileName, `0 usable conversations (${rejected.length} rejected${first ? `; line ${first.line}: ${first.reason}` : ''})`);
    }
    const all: LmExample[] = seqs.ids.map((ids, i) => ({ ids, labels: seqs.labels[i] }));
    const { train, val } = splitTrainVal(all, valFraction, seed);
    const samples: PreviewSegment[][] = [];
    for (const row of ds.chats) {
      if (samples.length === CHAT_SAMPLES) break;
      try {
        const r = renderWithSpans(chatTemplate, row.messages);
        samples.push(previewSegments(r.text, r.spans));
      } catch {
        // a refused conversation is already in `rejected`, with its reason
      }
    }
    return {
      data: lmTaskData(train, val, T),
      preview: {
        kind: 'text', file: fileName, format: 'chat', examples: ds.chats.length, sequences: all.length, tokens: seqs.tokenCount,
        trainedTokens: seqs.trainedTokens, truncated: seqs.truncated, rejected,
        sample: samples.map((segs) => segs.map((g) => g.text).join('').slice(0, 200)),
        chat: { template: chatTemplate.spec.source, samples, truncatedLines: seqs.truncatedLines },
      },
    };
  }
  const seqs = buildLmSequences(ds, lmTokenizer(tokenizer), T);
  const all: LmExample[] = seqs.ids.map((ids, i) => ({ ids, labels: seqs.labels[i] }));
  const { train, val } = splitTrainVal(all, valFraction, seed);
  return {
    data: lmTaskData(train, val, T),
    preview: {
      kind: 'text', file: fileName, format: ds.format, examples: ds.examples.length, sequences: all.length,
      tokens: seqs.tokenCount, trainedTokens: seqs.trainedTokens, truncated: seqs.truncated, rejected: ds.rejected,
      sample: ds.examples.slice(0, 3).map((e) => (e.prompt + e.completion).slice(0, 200)),
    },
  };
}

export interface ImagePreview {
  kind: 'images';
  root: string;
  classes: string[];
  counts: number[];
  rejected: RejectedFile[];
}

export async function prepareImages(
  paths: string[], decode: (path: string) => Promise<PixelImage>, config: VitConfig, pre: PreprocessorConfig | null,
  valFraction: number, seed: number,
): Promise<{ data: TaskData<ImageExample, Float32Array>; folder: ImageFolder; preview: ImagePreview }> {
  const folder = listImageFolder(paths);
  const rejected: RejectedFile[] = [...folder.rejected];
  const examples: ImageExample[] = [];
  const processor = pre ?? defaultProcessor(config);
  for (const item of folder.items) {
    try {
      const img = await decode(item.path);
      examples.push({ pixels: preprocessImage(img, processor, config), label: item.label });
    } catch (e) {
      rejected.push({ file: item.path, reason: `could not be decoded or preprocessed: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  if (examples.length === 0) throw new Error(`${folder.root}: no image could be decoded (${rejected.length} rejected)`);
  const counts = folder.classes.map((_, k) => examples.filter((e) => e.label === k).length);
  const { train, val } = splitTrainVal(examples, valFraction, seed);
  const pixels = config.num_channels * config.image_size[0] * config.image_size[1];
  return { data: imageTaskData(train, val, pixels), folder, preview: { kind: 'images', root: folder.root, classes: folder.classes, counts, rejected } };
}

/** No preprocessor_config.json: ViTImageProcessor's defaults, resized to the model's own image size. */
export function defaultProcessor(config: VitConfig): PreprocessorConfig {
  return { ...VIT_PROCESSOR_DEFAULTS, size: { height: config.image_size[0], width: config.image_size[1] }, warnings: [] };
}
