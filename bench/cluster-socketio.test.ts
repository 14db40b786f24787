/** Tests for bench/cluster-socketio.ts: the Socket.IO peer's command line and banner, as socketio-publish.mjs prints it. */
import { expect, test } from "bun:test";
import { parseWorkersLine } from "./cluster-nodes.ts";
import { parseSocketIoPort, socketIoClusterCommand } from "./cluster-socketio.ts";

test("the banner gives the port, and with workers the same workers line as skyport's supervisor", () => {
  const banner = "socketio-publish listening on 127.0.0.1:40999\n  workers  2 processes sharing the port: pids 201, 202 (supervisor 200)\n";
  expect(parseSocketIoPort(banner)).toBe(40999);
  expect(parseWorkersLine(banner)).toEqual({ workers: [201, 202], supervisor: 200 });
  expect(parseSocketIoPort("skyport listening on 127.0.0.1:1\n")).toBeNull();
});

test("the command emits one frame per room per tick at the drones' rate, of skyport's message size, through Redis", () => {
  const cmd = socketIoClusterCommand({ workers: 4, rooms: 5, hz: 100, frameBytes: 490.4, redisUrl: "redis://127.0.0.1:6390", core: 0 });
  expect(cmd.slice(0, 3)).toEqual(["taskset", "-c", "0"]);
  expect(cmd[4]).toEndWith("bench/reference/socketio-publish.mjs");
  const flag = (name: string) => cmd[cmd.indexOf(name) + 1];
  expect([flag("--rate"), flag("--burst"), flag("--topics"), flag("--frame-bytes"), flag("--workers"), flag("--redis")]).toEqual(["500", "5", "5", "490", "4", "redis://127.0.0.1:6390"]);
  expect(socketIoClusterCommand({ workers: 1, rooms: 5, hz: 100, frameBytes: 490, redisUrl: "redis://x:1" })[0]).not.toBe("taskset");
});
