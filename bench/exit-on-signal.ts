/**
 * Preloaded into a server under `bench/profile.ts` (`bun --preload`): exits
 * on SIGTERM or SIGINT, so that Bun writes the `--cpu-prof` profile it
 * writes only on a normal exit. Does nothing else, so the profiled server
 * runs exactly as benchmarked.
 */
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => process.exit(0));
