// Runs the real `lorasc` (bin/lorasc.mjs, a child Node process driving headless Chromium) as a user does,
// and collects its exit code and output; a run past its time is killed and reported as a hang.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export interface LorascResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runLorasc(cwd: string, args: string[], timeoutMs: number): Promise<LorascResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/lorasc.mjs'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); fail(new Error(`lorasc ${args[0]} still running after ${timeoutMs} ms (a hang); stderr: ${stderr}`)); }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}
