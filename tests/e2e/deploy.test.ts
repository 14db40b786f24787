/**
 * What deploy/ ships, checked by the tools that will read it: the systemd
 * unit by `systemd-analyze verify` and `systemd-analyze security`, and the
 * Grafana dashboard's queries against the families a real server exposes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../../src/edge/config.ts";
import { clusterFamilies } from "../../src/runtime/observability/cluster-metrics.ts";
import { scrapeMetrics } from "../support/prometheus.ts";
import { repoRoot, startSimServer } from "../support/server.ts";

const unitText = readFileSync(join(repoRoot, "deploy/skyport.service"), "utf8");
const systemdAnalyze = Bun.which("systemd-analyze");
const folder = mkdtempSync(join(tmpdir(), "skyport-deploy-"));

afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** The unit's value of `key` (the last one, as systemd reads it), or undefined. */
function directive(key: string): string | undefined {
  return [...unitText.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].at(-1)?.[1];
}

/**
 * The unit as installed, but with ExecStart pointing at an executable that
 * exists here (verify checks that it does): the binary is installed on the
 * target machine, not on this one.
 */
function unitForVerify(): string {
  const path = join(folder, "skyport.service");
  writeFileSync(path, unitText.replaceAll("/usr/local/bin/skyport", process.execPath));
  return path;
}

describe("deploy/skyport.service", () => {
  test("has the hardening, state, limits and restart policy it promises", () => {
    expect(directive("ExecStart")).toBe("/usr/local/bin/skyport serve --addr 0.0.0.0:8080 --data-dir /var/lib/skyport");
    // The recorder writes where the unit lets it: its StateDirectory.
    expect(directive("ExecStart")).toContain(`--data-dir /var/lib/${directive("StateDirectory")}`);
    expect(directive("DynamicUser")).toBe("yes");
    expect(directive("ProtectSystem")).toBe("strict");
    expect(directive("StateDirectory")).toBe("skyport");
    expect(directive("Restart")).toBe("on-failure");
    expect(directive("ExecReload")).toBe("/bin/kill -HUP $MAINPID");
    // One descriptor per connection plus room for Redis, links and files.
    expect(Number(directive("LimitNOFILE"))).toBeGreaterThanOrEqual(defaultConfig.maxConnections + 1024);
  });

  test.skipIf(systemdAnalyze === null)("systemd-analyze verify finds nothing wrong", () => {
    const result = spawnSync([systemdAnalyze!, "verify", unitForVerify()]);
    expect(result.stderr.toString()).toBe("");
    expect(result.exitCode).toBe(0);
  });

  test.skipIf(systemdAnalyze === null)("systemd-analyze security rates its exposure 2.0 or lower (of 10)", () => {
    const result = spawnSync([systemdAnalyze!, "security", "--offline=yes", "--no-pager", unitForVerify()]);
    const exposure = /Overall exposure level for skyport\.service: ([\d.]+)/.exec(result.stdout.toString());
    expect(exposure).not.toBeNull();
    expect(Number(exposure![1])).toBeLessThanOrEqual(2);
  });

  if (systemdAnalyze === null) console.log("deploy.test.ts: systemd-analyze not found, unit checks skipped (scripts/setup.sh installs Debian's systemd)");
});

describe("deploy/grafana-dashboard.json", () => {
  const dashboard = JSON.parse(readFileSync(join(repoRoot, "deploy/grafana-dashboard.json"), "utf8")) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };

  test("every query names a family the server exposes (cluster families included)", async () => {
    const server = startSimServer();
    try {
      const exposed = new Set((await scrapeMetrics(server.http("/metrics"))).keys());
      for (const family of clusterFamilies({ node: "n", redis: "up", ownedDrones: [], reconnects: 0, lastError: null, forwardedOps: 0, forwardFailures: 0, ticksPublished: 0, ticksReceived: 0, catchUps: 0, writeFailures: 0, busVersion: 2, incompatiblePeers: [] })) {
        exposed.add(family.name);
      }
      const queried = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => [...target.expr.matchAll(/\b(?:skyport|process)_[a-z_]+/g)].map((match) => match[0])));
      expect(queried.length).toBeGreaterThan(20);
      for (const name of queried) expect(`${name}: ${exposed.has(name.replace(/_(bucket|sum|count)$/, ""))}`).toBe(`${name}: true`);
    } finally {
      await server.stop();
    }
  });
});
