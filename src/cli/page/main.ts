// The CLI's engine page: runs one job from Node (src/cli/host.ts) with the app's own engine code and
// reports progress through the exposed __lorascEvent. Errors come back serialized, never thrown across.
import { type CliEvent, type CliJob, serializeError } from '../jobs';
import { setBridgeToken } from './bridge';
import { runEvalImages, runEvalLm, runClassify, runGenerate } from './inference';
import { runExport, runTrain } from './training';
import { runEvalChat, runGenerateChat } from './chat';

type Emit = (e: CliEvent) => void;

const w = window as unknown as {
  __lorascReady?: boolean;
  __lorascRun?: (job: CliJob, token: string) => Promise<unknown>;
  __lorascEvent?: Emit;
};

const emit: Emit = (e) => { void w.__lorascEvent?.(e); };

w.__lorascRun = async (job: CliJob, token: string) => {
  setBridgeToken(token);
  try {
    switch (job.kind) {
      case 'eval-lm': return { ok: true, result: await runEvalLm(job, emit) };
      case 'eval-images': return { ok: true, result: await runEvalImages(job, emit) };
      case 'eval-chat': return { ok: true, result: await runEvalChat(job, emit) };
      case 'generate': return { ok: true, result: job.chat ? await runGenerateChat({ ...job, chat: job.chat }) : await runGenerate(job) };
      case 'classify': return { ok: true, result: await runClassify(job) };
      case 'train': return { ok: true, result: await runTrain(job, emit) };
      case 'export': return { ok: true, result: await runExport(job, emit) };
    }
  } catch (e) {
    return { ok: false, error: serializeError(e) };
  }
};
w.__lorascReady = true;
