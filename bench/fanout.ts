/**
 * The fan-out measurement protocol: N subscribers watch the server's
 * telemetry; after a warm-up, one measured window gives deliveries per
 * second, delivery latency (receipt minus the send time the message
 * carries), frames lost per subscriber (seq gaps, and frames still missing a
 * grace period after the window), and the server's CPU per delivery.
 *
 * Owns that protocol only: the subscribers' behaviour is load-listen.ts,
 * the server's command line servers.ts.
 */
import { LoadGroup } from "./driver.ts";
import { mergeSnapshots, percentile } from "./histogram.ts";
import type { Sample, ScenarioContext } from "./scenarios.ts";
import { loadgenCoreShare, measureWindow } from "./window.ts";

/** What a paced fan-out asks of the server each second. */
export interface AskedRate {
  /** Telemetry messages each subscriber asked for: a frame per drone per tick, or one batch per tick. */
  messagesPerSubscriber: number;
  /** Frames all the streams together should produce (drones × hz), when each message is one drone's frame. */
  streamFrames?: number;
}

/**
 * Runs `subscribers` viewers against the running server (at `host`,
 * 127.0.0.1 by default) for one window; with `asked`, also how much of what
 * a paced workload asked for was produced and delivered.
 */
export async function runFanout(subscribers: number, context: ScenarioContext, host?: string, asked?: AskedRate): Promise<Sample> {
  const { server, timing, launch } = context;
  const group = await LoadGroup.open({
    ...(host === undefined ? {} : { host }),
    port: server.port,
    path: launch.path,
    connections: subscribers,
    processes: context.loadProcesses,
    core: context.loadCore,
    behaviour: {
      mode: "listen",
      send: launch.openingMessages,
      replies: launch.replies,
      graceMilliseconds: timing.lossGraceSeconds * 1000,
      deflate: launch.deflate === true,
      ...(context.loadgen?.reader ? { reader: context.loadgen.reader } : {}),
    },
    ...(context.loadgen?.runtimeFlags ? { runtimeFlags: context.loadgen.runtimeFlags } : {}),
  });
  try {
    await Bun.sleep(timing.warmupSeconds * 1000);
    group.command("mark");
    const [window] = await Promise.all([
      measureWindow(server.pid, group.pids, { server: context.serverCore, load: context.loadCore }, timing.measureSeconds, context.windowObserver),
      context.alongsideWindow?.({ server: server.pid, loadgens: group.pids }, timing.measureSeconds),
    ]);
    const results = await group.stop();

    const closed = results.reduce((sum, r) => sum + r.connectionsLost, 0);
    if (closed > 0) throw new Error(`${closed} subscriber connection(s) closed during the measured window`);
    const tallies = results.map((r) => {
      if (!r.telemetry) throw new Error("a load generator reported no telemetry tally");
      return r.telemetry;
    });
    const silent = tallies.reduce((sum, t) => sum + t.silentSubscribers, 0);
    if (silent > 0) throw new Error(`${silent} of ${subscribers} subscribers received no telemetry at all`);
    const repeated = tallies.reduce((sum, t) => sum + t.repeated, 0);
    if (repeated > 0) throw new Error(`${repeated} frames arrived twice or out of seq order`);
    const deliveries = results.reduce((sum, r) => sum + r.messages, 0);
    if (deliveries === 0) throw new Error("no telemetry delivered in the measured window");
    const messagesPerSecond = results.reduce((sum, r) => sum + r.messages / r.windowSeconds, 0);
    const droneFramesPerSecond = results.reduce((sum, r, i) => sum + tallies[i]!.droneFrames / r.windowSeconds, 0);
    const lostFrames = tallies.reduce((sum, t) => sum + t.lostInGaps + t.framesBehind, 0);
    const latency = mergeSnapshots(results.map((r) => r.latency));
    // Every load generator sees every stream: the one that saw the most is the best estimate of what was produced.
    const producedPerSecond = Math.max(...results.map((r, i) => tallies[i]!.streamFramesProduced / r.windowSeconds));
    return {
      ...(asked ? { askedShare: messagesPerSecond / (subscribers * asked.messagesPerSubscriber) } : {}),
      ...(asked?.streamFrames ? { producedShare: producedPerSecond / asked.streamFrames } : {}),
      messagesPerSecond,
      droneFramesPerSecond,
      p50Micros: percentile(latency, 0.5),
      p99Micros: percentile(latency, 0.99),
      cpuMicrosPerMessage: (window.server.coreShare / messagesPerSecond) * 1e6,
      serverCoreShare: window.server.coreShare,
      loadgenCoreShare: loadgenCoreShare(window),
      loadgenCpuMicrosPerMessage: (loadgenCoreShare(window) / messagesPerSecond) * 1e6,
      otherLoadServerCore: window.otherLoadServerCore,
      otherLoadLoadCore: window.otherLoadLoadCore,
      lostFrames,
      lostFramesPerSubscriber: lostFrames / subscribers,
      subscribersWithLoss: tallies.reduce((sum, t) => sum + t.subscribersWithLoss, 0),
      messageBytes: tallies.reduce((sum, t) => sum + t.payloadBytes, 0) / deliveries,
    };
  } finally {
    await group.close();
  }
}
