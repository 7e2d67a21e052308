// CPU references take Float32Array (to compare with the GPU) or Float64Array (for finite differences).
export type Arr = Float32Array | Float64Array;
