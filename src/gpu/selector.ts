// The per-adapter memory of kernel choices: one Choice per (kernel, shape class), made once and then kept.
// Order of authority: a choice already made in this page (whatever context asked) > the stored choice for
// this adapter > the shipped table for this adapter (a CPU implementation, docs/kernels.md#swiftshader) >
// timing the variants now. Whatever is decided first is what every later call gets, so two runs on one
// device never mix kernels (bit-identical resume depends on it).
import { type Candidate, type Choice, type TuneOptions, tune } from './autotune';
import { TUNE_FORMAT, type TuneStore } from './tuneStore';

export interface SelectRequest {
  /** The kernel family, e.g. 'matmul'. */
  kernel: string;
  /** The shape class: every shape in it gets the same variant. */
  shapeClass: string;
  /** Eligible variants in preference order (ties keep the earlier). */
  candidates: () => Candidate[];
  /** The shipped choice for this adapter and class, when there is one. */
  builtIn?: () => string | undefined;
}

export interface SelectedRecord extends Choice {
  kernel: string;
  shapeClass: string;
}

export class VariantSelector {
  private readonly decided = new Map<string, { kernel: string; shapeClass: string; choice: Promise<Choice> }>();

  constructor(
    readonly adapter: string,
    private readonly store: TuneStore,
    private readonly options: TuneOptions = {},
  ) {}

  private storeKey(kernel: string, shapeClass: string): string {
    return `v${TUNE_FORMAT}|${this.adapter}|${kernel}|${shapeClass}`;
  }

  /** The variant for a shape class: decided once, then the same answer for the life of the page. */
  choose(req: SelectRequest): Promise<Choice> {
    const key = this.storeKey(req.kernel, req.shapeClass);
    let entry = this.decided.get(key);
    if (!entry) {
      entry = { kernel: req.kernel, shapeClass: req.shapeClass, choice: this.decide(req, key) };
      this.decided.set(key, entry);
      // A failed decision (every variant rejected) is not kept: the caller sees the error, a retry starts over.
      entry.choice.catch(() => this.decided.delete(key));
    }
    return entry.choice;
  }

  private async decide(req: SelectRequest, key: string): Promise<Choice> {
    const eligible = req.candidates();
    const known = (id: string | undefined) => !!id && eligible.some((c) => c.id === id);
    const stored = await this.store.get(key);
    // A stored id that is no longer eligible (a feature gone, a variant renamed) is tuned afresh.
    if (stored && known(stored.variant)) return { ...stored, source: 'stored' };
    const shipped = req.builtIn?.();
    if (known(shipped)) return { variant: shipped!, source: 'built-in' };
    const choice = await tune(eligible, this.options);
    await this.store.set(key, choice);
    return choice;
  }

  /** Every choice decided so far in this page, for the Device panel. */
  async records(): Promise<SelectedRecord[]> {
    const out: SelectedRecord[] = [];
    for (const { kernel, shapeClass, choice } of [...this.decided.values()]) {
      const c = await choice.catch(() => undefined);
      if (c) out.push({ ...c, kernel, shapeClass });
    }
    return out;
  }
}
