// Public API of the dataset layer: text datasets (txt / jsonl / csv) → LM sequences, image folders, and
// deterministic splitting and ordering. Pure TypeScript: runs in the browser, the worker and Node.
export { DatasetError, type DatasetErrorCode, type Rejected, type RejectedFile } from './errors';
export { decodeDatasetText, firstInvalidUtf8 } from './utf8';
export { ALPACA_PROMPT_INPUT, ALPACA_PROMPT_NO_INPUT, alpacaPrompt, type TextExample } from './alpaca';
export { parseCsvRecords, type CsvRecord } from './csv';
export {
  DEFAULT_MAX_DATASET_BYTES,
  DEFAULT_MAX_RECORD_CHARS,
  parseTextDataset,
  textFormatOf,
  type TextDataset,
  type TextFormat,
  type TextParseOptions,
} from './text';
export { IGNORE_INDEX, buildLmSequences, lmTokenizer, type LmSequences, type LmTokenizer } from './sequences';
export { IMAGE_EXTENSIONS, classCounts, compareCodePoints, listImageFolder, type ImageFolder, type ImageItem } from './imageFolder';
export { batches, epochOrder, splitTrainVal } from './split';
