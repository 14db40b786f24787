/**
 * `cli.ts echo`: the classic echo client. Sends the current time every second
 * and prints each echo; on Ctrl-C sends a 1000 close, waits up to a second
 * for the server's close, and exits 0.
 */
import { parseFlags, UsageError, webSocketUrlFlag } from "../args.ts";

export const echoUsage = `usage: skyport echo [--url ws://localhost:8080/echo]

Sends the current time every second to an echo endpoint and prints
"recv: ..." for each echo. Ctrl-C closes the connection cleanly (code 1000).

flags:
  --url URL    echo endpoint (default ws://localhost:8080/echo)
  --help       print this help`;

/** Time between messages, as in the gorilla/websocket echo client. */
const sendIntervalMilliseconds = 1000;
/** How long to wait for the server's close frame after sending ours. */
const closeWaitMilliseconds = 1000;

export async function runEcho(argv: string[]): Promise<number> {
  const args = parseFlags(argv, ["url"]);
  if (args.flags.help) {
    console.log(echoUsage);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`echo takes no arguments: received ${JSON.stringify(args.positionals[0])}`);
  const url = webSocketUrlFlag(args.flags.url ?? "ws://localhost:8080/echo");

  return new Promise<number>((resolve) => {
    const ws = new WebSocket(url);
    let opened = false;
    let closing = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    const finish = (code: number) => {
      clearInterval(timer);
      process.off("SIGINT", interrupt);
      resolve(code);
    };
    const send = () => ws.send(new Date().toISOString());

    function interrupt() {
      if (!opened || closing) return finish(0);
      closing = true;
      clearInterval(timer);
      ws.close(1000, "client done");
      setTimeout(() => finish(0), closeWaitMilliseconds).unref();
    }
    process.on("SIGINT", interrupt);

    ws.onopen = () => {
      opened = true;
      console.error(`connected to ${url.href}`);
      send();
      timer = setInterval(send, sendIntervalMilliseconds);
    };
    ws.onmessage = (event) => {
      console.log(`recv: ${typeof event.data === "string" ? event.data : `<${(event.data as ArrayBuffer).byteLength} binary bytes>`}`);
    };
    ws.onclose = (event) => {
      if (closing) return finish(0);
      if (!opened) {
        console.error(`skyport echo: cannot connect to ${url.href}: is the server running?`);
        return finish(1);
      }
      console.error(`skyport echo: connection closed by the server (code ${event.code}${event.reason ? `: ${event.reason}` : ""})`);
      finish(1);
    };
  });
}
