/** See clock.cjs: moves the global Date's "now" forward by `offset()` ms; returns what puts the real Date back. */
export function shiftClock(offset: () => number): () => void;
