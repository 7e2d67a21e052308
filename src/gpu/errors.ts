// Typed GPU errors: every failure names what was asked for and what the device allows.

/** No WebGPU adapter could be obtained (browser without WebGPU, Node without a Vulkan driver). */
export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

/** A request exceeds one of the device's limits; thrown before anything is allocated. */
export class GpuLimitError extends Error {
  override name = 'GpuLimitError';
  constructor(
    readonly limit: string,
    readonly needed: number,
    readonly available: number,
    readonly what: string,
  ) {
    super(
      `${what} needs ${limit} of ${formatBytesOrCount(limit, needed)} ` +
        `but this device allows ${formatBytesOrCount(limit, available)}`,
    );
  }
}

/** The device could not allocate: reported by an 'out-of-memory' error scope around the allocation. */
export class GpuOutOfMemoryError extends Error {
  override name = 'GpuOutOfMemoryError';
  constructor(readonly what: string, readonly requestedBytes: number, readonly detail: string) {
    super(`${what}: the GPU ran out of memory while allocating ${formatBytesOrCount('size', requestedBytes)} (${detail}); lower the batch size, sequence length or rank`);
  }
}

/** The device rejected work as invalid (a WebGPU validation error caught by an error scope). */
export class GpuValidationError extends Error {
  override name = 'GpuValidationError';
}

/** A kernel was given a shape it cannot handle (wrong buffer size, zero dimension, ...). */
export class KernelShapeError extends Error {
  override name = 'KernelShapeError';
}

/** A pipeline or shader failed to compile or validate. */
export class GpuPipelineError extends Error {
  override name = 'GpuPipelineError';
}

function formatBytesOrCount(limit: string, n: number): string {
  if (!/size/i.test(limit)) return String(n);
  const mib = n / (1024 * 1024);
  return mib >= 1 ? `${n} bytes (${mib.toFixed(1)} MiB)` : `${n} bytes`;
}
