// The e2e project's globalSetup, in the vitest main process (the parent of the workers that built the
// checkpoints): when the run ends, the real-size checkpoints it built (~920 MB in the temp folder) go with it.
import { rmSync } from 'node:fs';
import { realSizeFolder } from './realSize';

export default function setup(): () => void {
  return () => rmSync(realSizeFolder(process.pid), { recursive: true, force: true });
}
