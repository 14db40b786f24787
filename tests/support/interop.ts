/**
 * Real WebSocket clients from other stacks for the interop and TLS tests:
 * the Go gorilla client (built here in GOPATH mode from Debian's source, no
 * module download), Python's `websockets` (Debian's, under /usr/bin/python3)
 * and Node's `ws`, all three speaking one small contract
 * (`URL CAFILE UNTIL MESSAGE...`: send the messages, print what arrives until
 * a line contains UNTIL). Also a certificate authority and server
 * certificates made by `openssl` for the TLS tests.
 */
import { spawn } from "bun";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./server.ts";

const interopDir = join(repoRoot, "tests/support/interop");
/** Where setup.sh's Debian package puts gorilla/websocket's source. */
const goPath = process.env.GORILLA_GOPATH ?? "/usr/share/gocode";
/** Debian's Python, which has Debian's `python3-websockets` (a pyenv python on PATH may not). */
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** What one client run printed, and how it ended. */
export interface ClientRun {
  code: number;
  /** Every text message received, in order. */
  lines: string[];
  stderr: string;
}

/** One client stack. */
export interface InteropClient {
  name: string;
  run(url: string, caFile: string | null, until: string, messages: readonly string[]): Promise<ClientRun>;
}

/** Runs a command to its end within `timeoutMs`. */
async function runCommand(command: string[], timeoutMs: number, env: Record<string, string> = {}, cwd?: string): Promise<ClientRun> {
  const proc = spawn(command, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs, env: { ...process.env, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, lines: stdout.split("\n").filter((line) => line !== ""), stderr };
}

/** Longest one client run may take: its own 10 s wait plus start-up. */
const clientTimeoutMs = 20_000;

/** Builds the gorilla client once per test process; resolves to its binary. */
let gorillaBinary: Promise<string> | null = null;
function buildGorilla(): Promise<string> {
  gorillaBinary ??= (async () => {
    if (!existsSync(join(goPath, "src/github.com/gorilla/websocket"))) throw new Error(`gorilla/websocket source not found under ${goPath}: run scripts/setup.sh (golang-github-gorilla-websocket-dev)`);
    const out = mkdtempSync(join(tmpdir(), "skyport-gorilla-"));
    const binary = join(out, "gorilla-client");
    const built = await runCommand(["go", "build", "-o", binary, "."], 120_000, { GOPATH: goPath, GO111MODULE: "off", GOFLAGS: "", GOCACHE: join(out, "cache") }, join(interopDir, "gorilla-client"));
    if (built.code !== 0) throw new Error(`go build of the gorilla client failed: ${built.stderr}`);
    return binary;
  })();
  return gorillaBinary;
}

/** The three client stacks. */
export const interopClients: readonly InteropClient[] = [
  {
    name: "Go gorilla/websocket",
    async run(url, caFile, until, messages) {
      return runCommand([await buildGorilla(), url, caFile ?? "-", until, ...messages], clientTimeoutMs);
    },
  },
  {
    name: "Python websockets",
    run: (url, caFile, until, messages) => runCommand([python, join(interopDir, "python_client.py"), url, caFile ?? "-", until, ...messages], clientTimeoutMs),
  },
  {
    name: "Node ws",
    run: (url, caFile, until, messages) => runCommand(["node", join(interopDir, "node-ws-client.mjs"), url, caFile ?? "-", until, ...messages], clientTimeoutMs),
  },
];

/** The /drone conversation each client has: claim its own drone, take off, and see the command's ack. */
export function droneConversation(drone: string): { messages: string[]; until: string } {
  return {
    messages: [
      JSON.stringify({ type: "claim", id: "c", data: { drone } }),
      JSON.stringify({ type: "command", id: "t", data: { drone, name: "takeoff" } }),
    ],
    until: '"id":"t"',
  };
}

/** The acks among the lines a client printed, by id. */
export function acksById(lines: readonly string[]): Map<string, Record<string, unknown>> {
  const acks = new Map<string, Record<string, unknown>>();
  for (const line of lines) {
    const message = JSON.parse(line) as { type: string; id?: string; data: Record<string, unknown> };
    if (message.type === "ack" && message.id !== undefined) acks.set(message.id, message.data);
  }
  return acks;
}

/** A test certificate authority and server certificates it signed, for 127.0.0.1 and localhost. */
export interface TestPki {
  dir: string;
  caFile: string;
  /** Makes a server certificate named `name` (its CN), signed by the CA; returns its files. */
  issue(name: string): Promise<{ certFile: string; keyFile: string }>;
}

/** Runs openssl, throwing with its stderr on failure. */
async function openssl(args: string[], cwd: string): Promise<void> {
  const proc = spawn(["openssl", ...args], { cwd, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`openssl ${args.join(" ")} failed (exit ${code}): ${stderr}`);
}

/** A fresh CA in a temporary folder (EC P-256, valid one day). */
export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), "skyport-pki-"));
  mkdirSync(dir, { recursive: true });
  await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=skyport test CA"], dir);
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    async issue(name) {
      await openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir);
      await Bun.write(join(dir, `${name}.ext`), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
      await openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`], dir);
      return { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
    },
  };
}
