/**
 * The CLI an operator can trust, as real processes against real servers:
 * tokens from flags and the environment, refusals in operator words, a
 * wrong path reported as what the server answered, `send` without `--wait`,
 * commands typed while disconnected never sent late, and Ctrl-C while
 * flying asking first.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { cliRunner } from "../support/cli.ts";
import { signHs256, testSecret } from "../support/jwt.ts";
import { startTestServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function server(overrides: Parameters<typeof startTestServer>[0] = {}) {
  const running = startTestServer(overrides);
  let stopped = false;
  cleanups.push(() => (stopped ? undefined : running.stop()));
  return { ...running, stop: () => ((stopped = true), running.stop()) };
}

/** The CLI with no token in its environment (whatever the shell running the tests has set). */
const { cli, run } = cliRunner(cleanups, { SKYPORT_TOKEN: "", SKYPORT_PILOT_TOKEN: "" });

describe("tokens", () => {
  const secured = { viewerToken: "viewer-secret", pilotToken: "pilot-secret" };

  test("no viewer token: one line saying the server needs one and where to put it, exit 1", async () => {
    const skyport = server(secured);
    for (const command of ["watch", "send"]) {
      const result = await run(command, "--url", skyport.ws("/drone"), ...(command === "send" ? ["takeoff"] : []));
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`skyport ${command}: this server needs a viewer token: pass --token or set SKYPORT_TOKEN\n`);
    }
  });

  test("a wrong viewer token, then a wrong pilot token, each named", async () => {
    const skyport = server(secured);
    const wrongViewer = await run("send", "--url", skyport.ws("/drone"), "--token", "guess", "takeoff");
    expect(wrongViewer.stderr).toBe("skyport send: wrong viewer token: pass --token or set SKYPORT_TOKEN\n");
    const wrongPilot = await run("send", "--url", skyport.ws("/drone"), "--token", "viewer-secret", "--pilot-token", "guess", "takeoff");
    expect(wrongPilot.code).toBe(1);
    expect(wrongPilot.stderr).toBe("skyport send: wrong pilot token: pass --pilot-token or set SKYPORT_PILOT_TOKEN\n");
  });

  test("--token and SKYPORT_PILOT_TOKEN fly; SKYPORT_TOKEN alone watches", async () => {
    const skyport = server(secured);
    const flown = await cliRunner(cleanups, { SKYPORT_TOKEN: "", SKYPORT_PILOT_TOKEN: "pilot-secret" }).run("send", "--url", skyport.ws("/drone"), "--token", "viewer-secret", "--wait", "takeoff");
    expect(flown.stderr).toBe("");
    expect(flown.code).toBe(0);
    expect(flown.stdout).toMatch(/^done takeoff completed/m);
    const { cli: watchCli } = cliRunner(cleanups, { SKYPORT_TOKEN: "viewer-secret", SKYPORT_PILOT_TOKEN: "" });
    const { proc, stdout } = watchCli("watch", "--url", skyport.ws("/drone"));
    await waitUntil(() => stdout.text.includes("[open]"), 5000, "a telemetry line");
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
  });

  test("one token for both (a signed identity token): --token alone claims", async () => {
    const skyport = server({ viewerToken: "one-token", pilotToken: "one-token" });
    const result = await run("send", "--url", skyport.ws("/drone"), "--token", "one-token", "status");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("a signed identity token (JWT) goes through --token unchanged: it watches and flies by its scope", async () => {
    const skyport = server({ jwtSecret: testSecret });
    const exp = Math.floor(Date.now() / 1000) + 600;
    const pilot = await signHs256({ sub: "alice", scope: "fly:alpha view:*", exp });
    const flown = await run("send", "--url", skyport.ws("/drone"), "--token", pilot, "--wait", "takeoff");
    expect(flown.stderr).toBe("");
    expect(flown.code).toBe(0);
    const viewer = await signHs256({ sub: "bob", scope: "view:alpha", exp });
    const refused = await run("send", "--url", skyport.ws("/drone"), "--token", viewer, "takeoff");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toStartWith("skyport send: error forbidden: bob may not fly alpha");
  });

  test("an empty --token is a usage error", async () => {
    const result = await run("send", "--token", "", "takeoff");
    expect(result.code).toBe(2);
    expect(result.stderr).toStartWith(`skyport send: --token needs a non-empty token: received ""`);
  });
});

test("a wrong path is reported as the server's 404, not as a server that is down", async () => {
  const skyport = server();
  const url = skyport.ws("/dron");
  const result = await run("watch", "--url", url);
  expect(result.code).toBe(1);
  expect(result.stderr).toBe(`skyport watch: cannot connect to ${url}: the server answered 404 Not Found: no such path: /dron (check the path in --url: skyport's endpoint is /drone)\n`);
});

test("send without --wait: a move during the takeoff goes once the takeoff is over; each later move replaces the one in flight", async () => {
  const skyport = server();
  const result = await run("send", "--url", skyport.ws("/drone"), "takeoff", "forward 5", "forward 5");
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout.split("\n").filter((line) => line.startsWith("ack "))).toHaveLength(3);
});

describe("fly", () => {
  test("a command typed while disconnected is not sent, and says so; nothing flies when the link is back", async () => {
    const first = server();
    const { proc, stdout } = cli("fly", "--url", first.ws("/drone"));
    await waitUntil(() => stdout.text.includes("flying alpha as session"), 5000, "the prompt is ready");
    const port = first.port;
    await first.stop();
    await waitUntil(() => stdout.text.includes("connection lost"), 5000, "the drop noticed");
    proc.stdin.write("takeoff\n");
    await waitUntil(() => stdout.text.includes("takeoff was not sent"), 5000, "the refusal");
    expect(stdout.text).toContain("error offline: takeoff was not sent: the connection to the server is down (commands are never sent late)");
    const second = server({ port });
    await waitUntil(() => stdout.text.includes("reconnected as session"), 10_000, "the reconnection");
    await waitUntil(() => second.flight.fleet.pilotOf("alpha") !== null, 5000, "the lease reclaimed");
    await Bun.sleep(300); // a late takeoff would have begun within a tick or two
    expect(second.flight.snapshot("alpha").state).toBe("landed");
    proc.stdin.write("quit\n");
    expect(await proc.exited).toBe(0);
  }, 30_000);

  test("Ctrl-C while flying asks and says what the failsafe will do; no stays, a second Ctrl-C leaves", async () => {
    const skyport = server({ failsafeSeconds: 7 });
    const { proc, stdout } = cli("fly", "--url", skyport.ws("/drone"));
    await waitUntil(() => stdout.text.includes("flying alpha as session"), 5000, "the prompt is ready");
    proc.stdin.write("takeoff\n");
    await waitUntil(() => stdout.text.includes("done takeoff completed"), 10_000, "the takeoff");
    proc.kill("SIGINT");
    await waitUntil(() => stdout.text.includes("Leave? [y/N]"), 5000, "the question");
    expect(stdout.text).toContain("alpha is in the air (hovering). Leaving releases it: it hovers for 7 s, then returns home and lands on its own. Leave? [y/N] (Ctrl-C again: yes)");
    proc.stdin.write("n\n");
    await waitUntil(() => stdout.text.includes("staying: you still fly alpha"), 5000, "the answer");
    expect(skyport.flight.fleet.pilotOf("alpha")).not.toBeNull();
    proc.kill("SIGINT");
    await waitUntil(() => (stdout.text.match(/Leave\? \[y\/N\]/g) ?? []).length === 2, 5000, "asked again");
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    expect(stdout.text).toEndWith("released alpha: bye\n");
    expect(skyport.flight.fleet.pilotOf("alpha")).toBeNull();
  }, 30_000);
});
