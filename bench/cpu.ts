// CPU time of Chromium's GPU process, read from /proc in Node and offered to the bench page. On SwiftShader both
// engines' shaders run as CPU threads in that one process, so its CPU milliseconds per product are the work each
// engine's kernels cost, which the load of other processes on a shared machine disturbs far less than wall time:
// a second figure beside the wall-clock ratio (which stays the headline), measured the same way for both sides.
// Linux only (/proc/<pid>/task/*/schedstat); elsewhere, or if no GPU process is found, the figure is absent.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const read = (path: string): string | undefined => { try { return readFileSync(path, 'utf8'); } catch { return undefined; } };

/** The pids of this process's descendants whose command line marks Chromium's GPU process. */
function gpuProcesses(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    // Fields after the parenthesised command (which may hold spaces): state, ppid, …
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : NaN;
    if (Number.isFinite(ppid)) children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift()!;
    // Chromium rewrites its argv as one space-separated string, so match the text, not an argument.
    if (/(^|[\s\0])--type=gpu-process([\s\0]|$)/.test(read(`/proc/${pid}/cmdline`) ?? '')) found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** Milliseconds on CPU so far, all threads of the process (schedstat's first field is nanoseconds on CPU). */
function processCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number((read(`/proc/${pid}/task/${tid}/schedstat`) ?? '0').split(' ')[0]);
  return ns / 1e6;
}

/** A reader of the GPU process's CPU ms (found on first use, after the page made its device), or undefined off Linux. */
export function gpuCpuReader(): (() => number | null) | undefined {
  if (!existsSync('/proc/self/task')) return undefined;
  let pid: number | undefined;
  return () => {
    if (pid === undefined || !existsSync(`/proc/${pid}`)) {
      const pids = gpuProcesses(process.pid);
      if (pids.length !== 1) return null; // none yet, or ambiguous: no figure rather than a wrong one
      pid = pids[0];
    }
    return processCpuMs(pid);
  };
}
