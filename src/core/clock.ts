// The host's monotonic clock in milliseconds, for deadlines, wall times and the guest's ticks.
// Node's `performance` global loads perf_hooks on first use (eleven built-in modules, ~1.5 ms of a
// `pyfence run`'s start); process.uptime() reads the same monotonic clock (uv_hrtime, nanoseconds)
// counted from the process's start, through a plain binding call.
export const monotonicMs = (): number => process.uptime() * 1000;
