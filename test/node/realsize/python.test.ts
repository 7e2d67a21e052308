// The real-size tests (test/e2e/real-size-*) fail, never skip, where their float64 PyTorch checks cannot run:
// the failure is one line naming the interpreter, what it lacks, and the Debian packages to install.
import { describe, expect, it } from 'vitest';
import { pythonProblem } from '../../helpers/realSize';

describe('pythonProblem', () => {
  it('names a missing interpreter and the packages to install', () => {
    const msg = pythonProblem('/nonexistent/python3');
    expect(msg).toMatch(/^the real-size tests need \/nonexistent\/python3 with torch and numpy \(ENOENT\): apt-get install python3-torch python3-numpy/);
    expect(msg).not.toContain('\n');
  });

  it('names a module the interpreter lacks', () => {
    const msg = pythonProblem('python3', ['lorasc_no_such_module']);
    expect(msg).toMatch(/lorasc_no_such_module/);
    expect(msg).toMatch(/apt-get install python3-torch python3-numpy/);
    expect(msg).not.toContain('\n');
  });

  it('passes where the modules import', () => {
    expect(pythonProblem('python3', ['json'])).toBeUndefined();
  });
});
