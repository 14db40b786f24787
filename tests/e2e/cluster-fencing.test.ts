/**
 * Fencing under faults (issue 19 #4, #1), end to end: a real redis-server
 * and real `server.ts` processes, paused with SIGSTOP and killed with
 * SIGKILL. A node whose claim on a drone may have expired stops flying,
 * publishing and answering for it; its stale writes are refused by Redis;
 * a node whose ownership reply was lost adopts from the key it reads.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { clusterSuite, health, increasing, seqsOf, until } from "../support/cluster.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";

const cluster = clusterSuite({ beforeAll, afterAll, afterEach });

/** The seqs stored in Redis for a drone, oldest first. */
async function storedSeqs(drone: string): Promise<number[]> {
  const stored = (await cluster.redisCommand(["LRANGE", `skyport:frames:${drone}`, "0", "-1"])) as string[];
  return stored.map((line) => Number(line.slice(0, line.indexOf("\t"))));
}

describe("a paused owner is fenced (issue 19 #4)", () => {
  test("SIGSTOP past the lease, then SIGCONT: one history in Redis and on every node, no stale ack, the pilot told", async () => {
    const { a, b } = await cluster.twoNodes();
    const onA = await cluster.viewer(a);
    const onB = await cluster.viewer(b);
    const pilot = await cluster.viewer(a);
    expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");
    await onB.waitTelemetry((frames) => frames.length >= 10, 5000);

    a.proc.kill("SIGSTOP");
    let command: Promise<any>;
    try {
      await until("node-b to take alpha over", () => health(b), (h) => h.cluster.ownedDrones.includes("alpha"), 10_000);
      const taken = seqsOf(onB).length;
      await onB.waitTelemetry(() => seqsOf(onB).length >= taken + 10, 5000);
      // Sent while A is paused: A reads it when it resumes.
      command = pilot.request("command", { drone: "alpha", name: "takeoff" }, 5);
    } finally {
      a.proc.kill("SIGCONT");
    }
    // A stale copy must not accept it.
    const answer = await command;
    expect(answer.type).toBe("error");
    // A's live pilot hears that it lost the lease.
    const lease = await pilot.take((m) => m.type === "lease" && m.data.drone === "alpha" && m.data.pilot !== pilot.session, 5000);
    expect(lease.data.pilot).toBeNull();
    await until("node-a to notice it lost alpha", () => health(a), (h) => !h.cluster.ownedDrones.includes("alpha"), 5000);
    const seen = seqsOf(onA).length;
    await onA.waitTelemetry(() => seqsOf(onA).length >= seen + 10, 5000);

    // One history: Redis never goes back, and every frame A's viewer saw is the frame B's viewer saw with that seq.
    expect(increasing(await storedSeqs("alpha"))).toBe(true);
    expect(increasing(seqsOf(onA))).toBe(true);
    const onBBySeq = new Map(onB.telemetry.filter((f) => f.drone === "alpha").map((f) => [f.seq, f]));
    const differing = onA.telemetry.filter((f) => f.drone === "alpha" && onBBySeq.has(f.seq) && JSON.stringify(onBBySeq.get(f.seq)) !== JSON.stringify(f));
    expect(differing.map((f) => f.seq)).toEqual([]);
  }, 40_000);
});

describe("a forwarded op its sender gave up on is never executed (issue 19 #4)", () => {
  test("the owner stalls past the forward timeout but within its lease: the pilot gets one answer, and the drone stays put", async () => {
    // A lease long enough that the pause does not fence node A: only the op's own deadline stops it.
    const { a, b } = await cluster.twoNodes(["--owner-lease-seconds", "10"]);
    const pilot = await cluster.viewer(b);
    expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");
    await pilot.waitTelemetry((frames) => frames.length >= 5, 5000);

    a.proc.kill("SIGSTOP");
    try {
      pilot.send({ type: "command", id: 7, data: { drone: "alpha", name: "takeoff" } });
      const answer = await pilot.take((m) => m.id === 7, 6000);
      expect(answer.type).toBe("error");
      expect(answer.data.code).toBe("drone_unavailable");
    } finally {
      a.proc.kill("SIGCONT");
    }
    // A reads the op as soon as it resumes; two seconds of its frames later it has long decided.
    const resumedAt = pilot.telemetry.length;
    await pilot.waitTelemetry((frames) => frames.length >= resumedAt + 20, 5000);
    const states = new Set(pilot.telemetry.slice(resumedAt).map((f) => f.state));
    expect([...states]).toEqual(["landed"]);
    // The error taken above was its one answer: no second one, no `done`.
    expect(pilot.messages.filter((m) => m.id === 7).map((m) => m.type)).toEqual([]);
  }, 40_000);
});

describe("an ownership reply lost (issue 19 #1)", () => {
  test("the owner dies while Redis stalls: the survivor's take runs but its reply is lost; it adopts from the key it reads", async () => {
    const { a, b } = await cluster.twoNodes();
    const onB = await cluster.viewer(b);
    await onB.waitTelemetry((frames) => frames.length >= 5, 5000);

    a.proc.kill("SIGKILL");
    const killedAt = Date.now();
    process.kill(cluster.redis.pid, "SIGSTOP");
    try {
      // B's round is queued in the stalled Redis and times out: its reply is lost.
      await until("node-b to give up on Redis", () => health(b), (h) => h.status === "degraded", 10_000);
      // Once A's keys have expired, the queued round takes the drones for B when Redis resumes.
      await until("node-a's owner lease to pass", async () => Date.now() - killedAt, (elapsed) => elapsed > 3500, 10_000);
    } finally {
      process.kill(cluster.redis.pid, "SIGCONT");
    }
    await until("node-b to fly both drones", () => health(b), (h) => h.status === "ok" && h.cluster.ownedDrones.length === 2, 10_000);
    expect(await cluster.redisCommand(["GET", "skyport:owner:alpha"])).toBe("node-b");
    const seen = seqsOf(onB).length;
    await onB.waitTelemetry(() => seqsOf(onB).length >= seen + 5, 5000);
    expect((await onB.request("claim", { drone: "alpha" })).type).toBe("ack");
  }, 40_000);
});

describe("a lease change is always announced (issue 19 #5)", () => {
  test("Redis restarts empty while the owner is paused: the other node takes over, and both sides' viewers hear the pilot lost the lease, and why", async () => {
    const { a, b } = await cluster.twoNodes();
    const pilot = await cluster.viewer(a);
    const onB = await cluster.viewer(b);
    expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");
    await onB.take((m) => m.type === "lease" && m.data.pilot === pilot.session, 3000);
    await onB.waitTelemetry((frames) => frames.length >= 5, 5000);

    a.proc.kill("SIGSTOP");
    try {
      await cluster.redis.restart();
      await until("node-b to take alpha over", () => health(b), (h) => h.status === "ok" && h.cluster.ownedDrones.includes("alpha"), 15_000);
      const lease = await onB.take((m) => m.type === "lease" && m.data.drone === "alpha", 3000);
      expect(lease.data.pilot).toBeNull();
      expect(lease.data.reason).toContain("took alpha over");
    } finally {
      a.proc.kill("SIGCONT");
    }
    const lost = await pilot.take((m) => m.type === "lease" && m.data.drone === "alpha" && m.data.pilot !== pilot.session, 8000);
    expect(lost.data.pilot).toBeNull();
    expect(lost.data.reason).toContain("node-b");
    // Nobody holds a record of the lost pilot any more: a later takeover will not hand it back.
    await until("the pilot record to be gone", () => cluster.redisCommand(["GET", "skyport:pilot:alpha"]), (stored) => stored === null, 5000);
  }, 60_000);
});

describe("the newest state wins a re-take (issue 19 #5)", () => {
  test("A paused, B takes over and flies on, B paused, Redis restarts empty, A comes back first: A carries on from B's newer state", async () => {
    const { a, b } = await cluster.twoNodes();
    const onB = await cluster.viewer(b);
    // Where in B's viewer's frames a stream_reset came (A may carry on in a new epoch: see below).
    const resetAfter: number[] = [];
    onB.ws.addEventListener("message", (event) => String(event.data).includes('"stream_reset"') && resetAfter.push(seqsOf(onB).length));
    await onB.waitTelemetry((frames) => frames.length >= 5, 5000);
    const paused = [a];
    try {
      a.proc.kill("SIGSTOP");
      await until("node-b to take alpha over", () => health(b), (h) => h.cluster.ownedDrones.includes("alpha"), 10_000);
      // B flies alpha off the ground: A's own state (landed) is now stale.
      expect((await onB.request("claim", { drone: "alpha" })).type).toBe("ack");
      expect((await onB.request("command", { drone: "alpha", name: "takeoff" })).type).toBe("ack");
      await onB.waitTelemetry((frames) => frames.some((f) => f.drone === "alpha" && f.position.z >= 1), 8000);
      b.proc.kill("SIGSTOP");
      paused.push(b);
      await cluster.redis.restart();
      a.proc.kill("SIGCONT");
      await until("node-a to take alpha back", () => cluster.redisCommand(["GET", "skyport:owner:alpha"]), (owner) => owner === "node-a", 10_000);
      b.proc.kill("SIGCONT");
      await until("node-b to reconnect", () => health(b), (h) => h.status === "ok", 10_000);
      const seen = seqsOf(onB).length;
      await onB.waitTelemetry(() => seqsOf(onB).length >= seen + 10, 8000);
      // A went on from the newest frame (B's, with B's pilot), not its own from before its pause (landed): no jump back to the ground.
      const alpha = onB.telemetry.filter((f) => f.drone === "alpha");
      const lastOfB = alpha.filter((f) => f.pilot === onB.session).at(-1);
      const firstOfA = alpha.find((f) => f.seq > lastOfB.seq);
      expect(firstOfA.pilot).toBeNull();
      expect(Math.abs(firstOfA.position.z - lastOfB.position.z)).toBeLessThan(1);
      // Seqs never go back within a stream. A carries on in a new epoch when B published a frame A never heard
      // (B paused right after publishing it): then seq may repeat, in another stream, announced by a stream_reset.
      expect(resetAfter.length).toBeLessThanOrEqual(1);
      const seqs = seqsOf(onB);
      const streams = resetAfter.length === 0 ? [seqs] : [seqs.slice(0, resetAfter[0]), seqs.slice(resetAfter[0])];
      for (const stream of streams) expect(increasing(stream)).toBe(true);
    } finally {
      for (const node of paused) node.proc.kill("SIGCONT");
    }
  }, 60_000);
});

describe("pilot presence (issue 19 #2)", () => {
  test("a pilot disconnects while its node is cut off Redis for a moment: the owner drops the lease within the lease time", async () => {
    const proxy = startTcpProxy(cluster.redis.port);
    try {
      const a = await cluster.startNode("node-a");
      await until("node-a to own both drones", () => health(a), (h) => h.cluster?.ownedDrones?.length === 2);
      // Node B reaches Redis through a proxy the test can cut: a partition of B alone.
      const b = await cluster.startNode("node-b", undefined, ["--redis", `redis://127.0.0.1:${proxy.port}`]);
      await until("node-b to connect to redis", () => health(b), (h) => h.cluster?.redis === "up");
      const onA = await cluster.viewer(a);
      const pilot = await cluster.viewer(b);
      expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");
      await onA.take((m) => m.type === "lease" && m.data.pilot === pilot.session, 3000);

      proxy.cut();
      try {
        await until("node-b to notice the cut", () => health(b), (h) => h.cluster.redis === "down", 5000);
        pilot.close();
        await until("node-b to see its pilot go", () => health(b), (h) => h.connections.drone === 0, 5000);
      } finally {
        proxy.restore();
      }
      // B is back before its heartbeat expires: only the pilot's absence can tell the owner.
      await until("node-b to reconnect", () => health(b), (h) => h.cluster.redis === "up", 10_000);
      const droppedBy = Date.now() + 3000 + 1000; // the lease, plus process and scheduling slack
      const lease = await onA.take((m) => m.type === "lease" && m.data.drone === "alpha" && m.data.pilot === null, 6000);
      expect(Date.now()).toBeLessThanOrEqual(droppedBy);
      expect(lease.data.reason).toBeString();
      // Nobody is locked out: another pilot can claim the drone once the lost pilot's reservation (if any) is over.
      const reservedMs = (lease.data.reservedSeconds ?? 0) * 1000;
      await until("another pilot to claim alpha", () => onA.request("claim", { drone: "alpha" }), (reply) => reply.type === "ack", reservedMs + 3000);
    } finally {
      proxy.stop();
    }
  }, 40_000);
});

describe("every accepted command ends in exactly one done (issue 19 #6)", () => {
  test("the owner dies with a command in flight: the pilot's node fails it once the drone has moved", async () => {
    const { a, b } = await cluster.twoNodes();
    const pilot = await cluster.viewer(b);
    expect((await pilot.request("claim", { drone: "alpha" })).type).toBe("ack");
    const takeoff = await pilot.request("command", { drone: "alpha", name: "takeoff" }, 7);
    expect(takeoff.type).toBe("ack");

    a.proc.kill("SIGKILL");
    const killedAt = Date.now();
    const done = await pilot.done(7, 8000);
    expect(done.data).toMatchObject({ drone: "alpha", command: "takeoff", status: "failed" });
    expect(done.data.reason).toContain("node-a");
    expect(Date.now() - killedAt).toBeLessThanOrEqual(3000 + 1000); // the lease, plus process and scheduling slack
    // Exactly one: nothing more for request 7 while the new owner flies on.
    const seen = pilot.telemetry.length;
    await pilot.waitTelemetry((frames) => frames.length >= seen + 10, 5000);
    expect(pilot.messages.filter((m) => m.id === 7)).toEqual([]);
  }, 40_000);
});

describe("a double fault never lets one (epoch, seq) name two frames (issue 19, #7 left over)", () => {
  test("A cut off Redis, B flies on in A's epoch and dies, Redis restarts empty, A comes back: A's stream goes on in a new epoch", async () => {
    const proxy = startTcpProxy(cluster.redis.port);
    try {
      // Node A reaches Redis through a proxy the test can cut: a partition of A alone.
      const a = await cluster.startNode("node-a", undefined, ["--redis", `redis://127.0.0.1:${proxy.port}`]);
      await until("node-a to own both drones", () => health(a), (h) => h.cluster?.ownedDrones?.length === 2);
      const b = await cluster.startNode("node-b");
      await until("node-b to connect to redis", () => health(b), (h) => h.cluster?.redis === "up");
      const onA = await cluster.viewer(a);
      const onB = await cluster.viewer(b);
      await onB.waitTelemetry((frames) => frames.length >= 5, 5000);
      const epoch = onB.welcome.data.drones.find((d: any) => d.id === "alpha").epoch as string;

      proxy.cut();
      await until("node-b to take alpha over", () => health(b), (h) => h.cluster.ownedDrones.includes("alpha"), 10_000);
      const lastOnA = seqsOf(onA).at(-1)!;
      // B flies on in the same stream: its viewer sees seqs A never published.
      await onB.waitTelemetry(() => seqsOf(onB).at(-1)! >= lastOnA + 20, 8000);
      const newestOfB = seqsOf(onB).at(-1)!;
      expect((await onB.request("subscribe", { drone: "alpha", since: newestOfB - 1, epoch })).data).toMatchObject({ epoch });

      // Second fault: B dies and Redis comes back empty. A, which never heard B, is the only node left.
      b.proc.kill("SIGKILL");
      await b.exited;
      await cluster.redis.restart();
      proxy.restore();
      await until("node-a to take alpha back", () => cluster.redisCommand(["GET", "skyport:owner:alpha"]), (owner) => owner === "node-a", 10_000);

      // A carries on from its own state, behind B's seqs: in a new epoch, and its viewers are told.
      const reset = await onA.take((m) => m.type === "event" && m.data.kind === "stream_reset" && m.data.drone === "alpha", 5000);
      expect(reset.data.epoch).not.toBe(epoch);
      const late = await cluster.viewer(a);
      const alpha = late.welcome.data.drones.find((d: any) => d.id === "alpha");
      expect(alpha.epoch).toBe(reset.data.epoch);
      expect(alpha.seq).toBeLessThan(newestOfB);
      // B's viewer resuming on A with B's (epoch, seq) is told the stream restarted: never handed A's frames as B's.
      const resumer = await cluster.viewer(a, "/drone");
      const resumed = resumer.take((m) => m.type === "event" && m.data.kind === "stream_reset" && m.data.drone === "alpha", 3000);
      await resumer.request("subscribe", { drone: "alpha", since: newestOfB, epoch });
      expect((await resumed).data.epoch).toBe(reset.data.epoch);
    } finally {
      proxy.stop();
    }
  }, 60_000);
});
