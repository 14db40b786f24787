/**
 * What this build of skyport is: its version (package.json's, bundled at
 * build time, so the single executable knows it too), the wire protocol it
 * speaks, and the Bun it runs on.
 *
 * Owns these two facts for `/metrics` (`skyport_build_info`), `/healthz` and
 * `skyport --version`; it reads nothing at run time but Bun's own version.
 */
import packageJson from "../../../package.json" with { type: "json" };
import { protocolVersion } from "../../../protocol/index.ts";

/** This build's version and runtime. */
export interface BuildInfo {
  /** skyport's version, e.g. `0.1.0`. */
  version: string;
  /** The `/drone` wire protocol's version (`welcome.protocolVersion`), e.g. `1`. */
  protocol: string;
  /** The Bun runtime's version, e.g. `1.4.5`. */
  bun: string;
}

/** This process's build. */
export const buildInfo: Readonly<BuildInfo> = Object.freeze({ version: packageJson.version, protocol: String(protocolVersion), bun: Bun.version });
