/**
 * TLS end to end: a real `server.ts --tls-cert --tls-key` process with a
 * certificate that `openssl` signs here with a test CA, serving https:// and
 * wss:// on one port; the Go gorilla client, Python `websockets`, Node `ws`,
 * the skyport CLI and Chromium's dashboard over wss; and SIGHUP reloading a
 * renewed certificate for new connections while open ones carry on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:tls";
import { join } from "node:path";
import WebSocket from "ws";
import { launchBrowser, type TestBrowser } from "../support/browser.ts";
import { newVisitor, openDashboard } from "../support/dashboard.ts";
import { acksById, droneConversation, interopClients, makeTestPki, type TestPki } from "../support/interop.ts";
import { sampleValue, scrapeMetrics } from "../support/prometheus.ts";
import { repoRoot, spawnServerCommand, type ServerProcess } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

let pki: TestPki;
let server: ServerProcess;
let ca: string;
/** The files the server was started with; a renewal overwrites them in place, as certbot does. */
let liveCert: string;
let liveKey: string;
let browser: TestBrowser | null = null;

const https = (path: string) => `https://127.0.0.1:${server.port}${path}`;
const wss = (path: string) => `wss://127.0.0.1:${server.port}${path}`;

/** /metrics over https, trusting the test CA. */
function scrapeMetricsWith(url: string) {
  return scrapeMetrics(url, { tls: { ca } });
}

/** The CN of the certificate a new TLS connection to the server is shown. */
function servedCommonName(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: server.port, ca, servername: "localhost" }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN));
      socket.end();
    });
    socket.on("error", reject);
  });
}

/** A `ws` socket over wss trusting the test CA, open. */
async function openTrusted(path: string): Promise<WebSocket> {
  const socket = new WebSocket(wss(path), { ca });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return socket;
}

/** The next text message on `socket` that passes `wanted`. */
function nextMessage(socket: WebSocket, wanted: (text: string) => boolean = () => true, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      const text = data.toString();
      if (!wanted(text)) return;
      clearTimeout(timer);
      socket.off("message", onMessage);
      resolve(text);
    };
    socket.on("message", onMessage);
  });
}

beforeAll(async () => {
  pki = await makeTestPki();
  ca = readFileSync(pki.caFile, "utf8");
  const first = await pki.issue("cert-one");
  liveCert = join(pki.dir, "live.pem");
  liveKey = join(pki.dir, "live.key");
  copyFileSync(first.certFile, liveCert);
  copyFileSync(first.keyFile, liveKey);
  server = await spawnServerCommand(
    // Its own recorder database: the repository's ./data may hold these drones flying from an earlier run.
    [process.execPath, "run", join(repoRoot, "server.ts"), "--addr", "127.0.0.1:0", "--drones", "d0,d1,d2,cli", "--tls-cert", liveCert, "--tls-key", liveKey, "--data-dir", join(pki.dir, "data")],
    20_000,
  );
}, 30_000);

afterAll(async () => {
  await browser?.close();
  server?.proc.kill("SIGKILL");
});

describe("https and wss on one port", () => {
  test("the banner names https and wss; the log names the certificate and its expiry", async () => {
    const banner = server.stderr.join("\n");
    expect(banner).toContain(`https://127.0.0.1:${server.port}/`);
    expect(banner).toContain(`wss://127.0.0.1:${server.port}/drone`);
    await waitUntil(() => server.output.some((line) => line.includes('"event":"tls"')), 5000, "the tls log line");
    const logged = JSON.parse(server.output.find((line) => line.includes('"event":"tls"'))!);
    expect(logged.subject).toContain("CN=cert-one");
    expect(Date.parse(logged.notAfter)).toBeGreaterThan(Date.now());
  });

  test("GET /healthz over https with the test CA trusted; plain http on the same port is not served", async () => {
    const response = await fetch(https("/healthz"), { tls: { ca } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe("ok");
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`).then((r) => r.status)).rejects.toThrow();
  });

  test("an untrusted certificate is refused by a client that checks it", async () => {
    await expect(fetch(https("/healthz"))).rejects.toThrow();
  });
});

describe.each(interopClients.map((client, index) => [client.name, client, index] as const))("%s over wss://", (_name, client, index) => {
  test("/echo and /drone", async () => {
    const echoed = await client.run(wss("/echo"), pki.caFile, "✈", ["over TLS ✈"]);
    expect(`${echoed.code} ${echoed.stderr}`).toBe("0 ");
    expect(echoed.lines).toEqual(["over TLS ✈"]);
    const drone = `d${index}`;
    const { messages, until } = droneConversation(drone);
    const flown = await client.run(wss(`/drone?drone=${drone}`), pki.caFile, until, messages);
    expect(`${flown.code} ${flown.stderr}`).toBe("0 ");
    expect(acksById(flown.lines).get("t")).toMatchObject({ drone, command: "takeoff" });
  }, 60_000);
});

test("skyport send flies over wss, trusting the CA through NODE_EXTRA_CA_CERTS", async () => {
  const proc = Bun.spawn([process.execPath, join(repoRoot, "bin/skyport.ts"), "send", "--url", wss("/drone"), "--drone", "cli", "--wait", "takeoff", "land"], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: pki.caFile },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(`${code} ${stderr}`).toBe("0 ");
  expect(stdout).toContain("takeoff");
  expect(stdout).toContain("land");
}, 30_000);

test("Chromium's dashboard connects over https and wss and shows telemetry", async () => {
  browser = await launchBrowser();
  const page = await newVisitor(browser.browser, { ignoreHTTPSErrors: true });
  await openDashboard(page, https("/"));
  expect(page.url()).toStartWith("https://");
  expect(page.errors).toEqual([]);
}, 30_000);

test("SIGHUP serves a renewed certificate to new connections; open sockets keep echoing and getting telemetry", async () => {
  expect(await servedCommonName()).toBe("cert-one");
  const echo = await openTrusted("/echo");
  const viewer = await openTrusted("/drone?drone=d0");
  await nextMessage(viewer, (text) => text.includes('"type":"telemetry"'));

  const second = await pki.issue("cert-two");
  copyFileSync(second.certFile, liveCert);
  copyFileSync(second.keyFile, liveKey);
  server.proc.kill("SIGHUP");
  await waitUntil(() => server.output.some((line) => line.includes('"event":"tls_reloaded"')), 5000, "the tls_reloaded log line");
  expect(await servedCommonName()).toBe("cert-two");
  const reloaded = JSON.parse(server.output.find((line) => line.includes('"event":"tls_reloaded"'))!);
  const scrape = await scrapeMetricsWith(https("/metrics"));
  expect(sampleValue(scrape, "skyport_tls_certificate_expiry_timestamp_seconds")).toBe(Date.parse(reloaded.notAfter) / 1000);

  echo.send("still here");
  expect(await nextMessage(echo)).toBe("still here");
  const frame = JSON.parse(await nextMessage(viewer, (text) => text.includes('"type":"telemetry"')));
  expect(frame.data.drone).toBe("d0");
  // A client that arrives now is served by the new listener, and gets telemetry too.
  const late = await openTrusted("/drone?drone=d0");
  await nextMessage(late, (text) => text.includes('"type":"telemetry"'));
  for (const socket of [echo, viewer, late]) socket.close();
}, 30_000);

test("a SIGHUP with a broken key keeps the served certificate and logs why", async () => {
  writeFileSync(liveKey, "not a key\n");
  server.proc.kill("SIGHUP");
  await waitUntil(() => server.stderr.some((line) => line.includes('"event":"tls_reload_failed"')), 5000, "the tls_reload_failed log line");
  const failed = JSON.parse(server.stderr.find((line) => line.includes('"event":"tls_reload_failed"'))!);
  expect(failed.message).toContain("--tls-key");
  expect(await servedCommonName()).toBe("cert-two");
  server.proc.kill("SIGTERM");
  expect(await server.exited).toBe(0);
}, 15_000);
