/**
 * The real CLI as a child process: started with piped stdio, its output
 * collected as it arrives, and killed by the test's cleanups if still
 * running. Shared by the CLI's end-to-end tests.
 */
import { join } from "node:path";
import { repoRoot } from "./server.ts";

/** Collects a stream's text as it arrives. */
export function collect(stream: ReadableStream<Uint8Array>): { text: string } {
  const sink = { text: "" };
  (async () => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) sink.text += decoder.decode(read.value, { stream: true });
  })();
  return sink;
}

/** How a test starts and runs the CLI; each process is registered in `cleanups` to be killed after the test. */
export function cliRunner(cleanups: Array<() => unknown>, env?: Record<string, string | undefined>) {
  /** Starts the CLI; its output is collected as it comes. */
  function cli(...args: string[]) {
    const proc = Bun.spawn([process.execPath, "run", join(repoRoot, "client", "cli", "cli.ts"), ...args], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
    });
    cleanups.push(() => {
      if (proc.exitCode === null) proc.kill("SIGKILL");
    });
    return { proc, stdout: collect(proc.stdout), stderr: collect(proc.stderr) };
  }

  /** Runs the CLI to the end, within a bound. */
  async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const { proc, stdout, stderr } = cli(...args);
    const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => -1)]);
    if (code === -1) throw new Error(`cli ${args.join(" ")} did not exit within 15 s: ${stdout.text} ${stderr.text}`);
    await Bun.sleep(0); // let the collectors take the last chunk
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  return { cli, run };
}

/** A loopback port nothing listens on. */
export function unusedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}
