// Command-line parsing: `--name value`, `--name=value` and boolean `--flag`, checked against each
// command's declared options so a typo is an error, not a silently ignored option.

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OptionSpec {
  /** 'flag' takes no value. */
  kind: 'string' | 'number' | 'int' | 'flag';
  help: string;
}

export type Parsed = Record<string, string | number | boolean>;

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): Parsed {
  const out: Parsed = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name} (options: ${Object.keys(spec).map((k) => `--${k}`).join(', ')})`);
    if (s.kind === 'flag') {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    const raw = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    if (s.kind === 'string') out[name] = raw;
    else {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v) || (s.kind === 'int' && !Number.isInteger(v))) {
        throw new UsageError(`--${name} must be ${s.kind === 'int' ? 'an integer' : 'a number'}, got "${raw}"`);
      }
      out[name] = v;
    }
  }
  return out;
}

export function usage(command: string, spec: Record<string, OptionSpec>): string {
  const width = Math.max(...Object.keys(spec).map((k) => k.length)) + 4;
  return [`usage: lorasc ${command} [options]`, ...Object.entries(spec).map(([k, s]) => `  --${k.padEnd(width)}${s.help}`)].join('\n');
}
