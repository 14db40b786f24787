/**
 * The real CLI's drone subcommands (`send`, `fly`, `watch`) as processes
 * against a real in-process server with real simulation timers.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { cliRunner, unusedPort } from "../support/cli.ts";
import { startTestServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function server() {
  const running = startTestServer();
  cleanups.push(() => running.stop());
  return running;
}

const { cli, run } = cliRunner(cleanups);

describe("send", () => {
  test("--wait takeoff \"up 2\": one line per result, exit 0, the drone airborne at 4 m", async () => {
    const skyport = server();
    const result = await run("send", "--url", skyport.ws("/drone"), "--wait", "takeoff", "up 2");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^ack takeoff → target x=0\.00 y=0\.00 z=2\.00 \(\d+ ms\)$/);
    expect(lines[1]).toMatch(/^done takeoff completed \(\d+\.\d s\)$/);
    expect(lines[2]).toMatch(/^ack up 2 → target x=0\.00 y=0\.00 z=4\.00 \(\d+ ms\)$/);
    expect(lines[3]).toMatch(/^done up 2 completed \(\d+\.\d s\)$/);
    const drone = skyport.flight.fleet.state("alpha");
    expect(drone.state).toBe("hovering");
    expect(drone.position.z).toBeCloseTo(4, 1);
    // Released at the end: nobody flies it (the server's failsafe holds it).
    await waitUntil(() => skyport.flight.fleet.pilotOf("alpha") === null, 2000, "lease released");
  });

  test("without --wait a move during takeoff is not refused: it goes once the takeoff is over (issue 16), exit 0", async () => {
    const skyport = server();
    const result = await run("send", "--url", skyport.ws("/drone"), "takeoff", "up 2");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ack takeoff → target x=0\.00 y=0\.00 z=2\.00 \(\d+ ms\)\nack up 2 → target x=0\.00 y=0\.00 z=4\.00 \(\d+ ms\)\n$/);
  });

  test("a command the grammar rejects: exit 1, one line, nothing sent", async () => {
    const skyport = server();
    const result = await run("send", "--url", skyport.ws("/drone"), "takeoff", "jump 3");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toEqual([
      `skyport send: "jump 3": error unknown_command: unknown command "jump": expected one of takeoff, land, up, down, left, right, forward, back, cw, ccw, goto, gotogeo, speed, velocity, hover, rth, emergency, status, arm, disarm, mode`,
    ]);
    expect(skyport.logger.lines.filter((line) => line.event === "ws_open")).toEqual([]);
  });

  test("a command the drone refuses: exit 1 with the server's error", async () => {
    const skyport = server();
    const result = await run("send", "--url", skyport.ws("/drone"), "land");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("skyport send: land: error not_flying: land needs the drone airborne; it is landed: send takeoff first\n");
    await waitUntil(() => skyport.flight.fleet.pilotOf("alpha") === null, 2000, "lease released");
  });

  test("another session holds the lease: exit 1 with one clear line", async () => {
    const skyport = server();
    const pilot = await DroneTestClient.connect(skyport.ws("/drone"));
    cleanups.push(() => pilot.close());
    expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");
    const result = await run("send", "--url", skyport.ws("/drone"), "takeoff");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`skyport send: alpha is already flown by session ${pilot.session}\n`);
    expect(skyport.flight.fleet.pilotOf("alpha")).toBe(pilot.session);
  });

  test("an unknown --drone: exit 1 naming the drones there are", async () => {
    const skyport = server();
    const result = await run("send", "--url", skyport.ws("/drone"), "--drone", "zulu", "takeoff");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`skyport send: no drone "zulu": this server flies alpha\n`);
  });

  test("no command is a usage error: exit 2", async () => {
    const result = await run("send", "--url", "ws://127.0.0.1:1/drone");
    expect(result.code).toBe(2);
    expect(result.stderr).toStartWith(`skyport send: send needs at least one command, e.g. takeoff "up 5": received none\n\nusage: skyport send`);
  });
});

describe("fly", () => {
  test("driven through stdin: takes off, reports ack, done and status, releases on quit", async () => {
    const skyport = server();
    const { proc, stdout, stderr } = cli("fly", "--url", skyport.ws("/drone"));
    await waitUntil(() => stdout.text.includes("flying alpha as session"), 5000, "the prompt is ready");
    expect(skyport.flight.fleet.pilotOf("alpha")).not.toBeNull();

    proc.stdin.write("takeoff\n");
    proc.stdin.flush();
    await waitUntil(() => /^done takeoff completed \(\d+\.\d s\)$/m.test(stdout.text), 5000, "takeoff completed");
    expect(stdout.text).toMatch(/^ack takeoff → target x=0\.00 y=0\.00 z=2\.00 \(\d+ ms\)$/m);

    proc.stdin.write("forward 5000\nstatus\n");
    proc.stdin.flush();
    await waitUntil(() => stdout.text.includes("status alpha hovering"), 5000, "status");
    expect(stdout.text).toContain("error out_of_range: distance of forward must be from 0.1 to 1000 m: received 5000\n");
    expect(stdout.text).toMatch(/^status alpha hovering x=0\.00 y=0\.00 z=2\.00 heading=0 speed=0\.00 battery=\d+\.\d% pilot=you$/m);

    proc.stdin.write("quit\n");
    proc.stdin.flush();
    expect(await proc.exited).toBe(0);
    expect(stderr.text).toBe("");
    expect(skyport.flight.fleet.pilotOf("alpha")).toBeNull();
    expect(skyport.flight.fleet.state("alpha").state).toBe("hovering");
    await waitUntil(() => skyport.logger.lines.some((line) => line.event === "ws_close" && line.code === 1000), 2000, "a clean close");
  });

  test("the end of input (Ctrl-D) releases the drone and exits 0", async () => {
    const skyport = server();
    const { proc, stdout } = cli("fly", "--url", skyport.ws("/drone"));
    await waitUntil(() => stdout.text.includes("flying alpha as session"), 5000, "the prompt is ready");
    proc.stdin.end();
    expect(await proc.exited).toBe(0);
    expect(stdout.text).toEndWith("released alpha: bye\n");
    expect(skyport.flight.fleet.pilotOf("alpha")).toBeNull();
  });

  test("Ctrl-C (SIGINT) releases the drone and exits 0", async () => {
    const skyport = server();
    const { proc, stdout } = cli("fly", "--url", skyport.ws("/drone"));
    await waitUntil(() => stdout.text.includes("flying alpha as session"), 5000, "the prompt is ready");
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    expect(skyport.flight.fleet.pilotOf("alpha")).toBeNull();
  });

  test("refused when another session flies the drone: one line, exit 1", async () => {
    const skyport = server();
    const pilot = await DroneTestClient.connect(skyport.ws("/drone"));
    cleanups.push(() => pilot.close());
    await pilot.request("claim", { drone: "alpha" });
    const result = await run("fly", "--url", skyport.ws("/drone"));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`skyport fly: alpha is already flown by session ${pilot.session}\n`);
  });
});

describe("watch", () => {
  test("prints a line with the drone's state within 2 s and exits 0 on SIGINT after a clean close", async () => {
    const skyport = server();
    const { proc, stdout, stderr } = cli("watch", "--url", skyport.ws("/drone"));
    await waitUntil(() => /^alpha landed x=0\.00 y=0\.00 z=0\.00 heading=0 speed=0\.00 battery=\d+\.\d% pilot=none \[open\]$/m.test(stdout.text), 2000, "a telemetry line");
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    expect(stderr.text).toBe("");
    expect(stdout.text.trim().split("\n").at(-1)).toEndWith("[closed]");
    await waitUntil(() => skyport.logger.lines.some((line) => line.event === "ws_close" && line.code === 1000), 2000, "a clean close");
  });

  test("redraws at most 10 times a second and shows the pilot and the last event", async () => {
    const skyport = server();
    const { proc, stdout } = cli("watch", "--url", skyport.ws("/drone"));
    await waitUntil(() => stdout.text.includes("[open]"), 2000, "the first line");
    const pilot = await DroneTestClient.connect(skyport.ws("/drone"));
    cleanups.push(() => pilot.close());
    await pilot.request("claim", { drone: "alpha" });
    await waitUntil(() => stdout.text.includes(`pilot=${pilot.session}`), 2000, "the pilot shown");
    expect(stdout.text).toContain(`event="lease: pilot ${pilot.session} (claimed)"`);

    const before = stdout.text.split("\n").length;
    const started = performance.now();
    await Bun.sleep(1000); // counting redraws over a second: nothing to await but time
    const redraws = stdout.text.split("\n").length - before;
    const seconds = (performance.now() - started) / 1000;
    expect(redraws).toBeGreaterThan(0);
    expect(redraws).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 1);
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
  });
});

describe("watch --max-hz", () => {
  test("subscribes throttled: the server holds one throttled viewer of the drone, and telemetry lines still come", async () => {
    const skyport = server();
    const { proc, stdout } = cli("watch", "--url", skyport.ws("/drone"), "--max-hz", "2");
    await waitUntil(() => skyport.flight.throttledViewers.count("drone:alpha") === 1, 3000, "a throttled viewer of alpha");
    await waitUntil(() => /^alpha landed .* \[open\]$/m.test(stdout.text), 3000, "a telemetry line");
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    await waitUntil(() => !skyport.flight.throttledViewers.any, 2000, "the throttle gone with the socket");
  });

  test("a rate out of range is a usage error naming the flag, exit 2", async () => {
    const result = await run("watch", "--max-hz", "0");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--max-hz must be a number of frames per second from 0.1 to 100: received "0"');
  });
});

describe("every drone command", () => {
  for (const command of ["watch", "fly", "send"]) {
    test(`${command}: an unreachable server gives one line and exit 1`, async () => {
      const url = `ws://127.0.0.1:${unusedPort()}/drone`;
      const result = await run(command, "--url", url, ...(command === "send" ? ["takeoff"] : []));
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(`skyport ${command}: cannot connect to ${url}: nothing answered at ${new URL(url).host} (ECONNREFUSED): is the server running, and is the address right?\n`);
    });

    test(`${command} --help prints its usage and exits 0`, async () => {
      const result = await run(command, "--help");
      expect(result.code).toBe(0);
      expect(result.stdout).toStartWith(`usage: skyport ${command} [--url URL] [--drone ID]`);
      expect(result.stdout).toContain("--drone ID");
    });

    test(`${command} with an unknown flag is a usage error: exit 2`, async () => {
      const result = await run(command, "--bogus");
      expect(result.code).toBe(2);
      expect(result.stderr).toStartWith(`skyport ${command}: unknown flag --bogus\n\nusage: skyport ${command}`);
    });
  }

  test("the main help lists them", async () => {
    const result = await run("--help");
    expect(result.code).toBe(0);
    for (const command of ["watch", "fly", "send"]) expect(result.stdout).toContain(`  ${command} `);
  });
});
