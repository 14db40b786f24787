/**
 * Which nodes can share one cluster: the version of the cluster protocol
 * (the bus messages, the Redis keys and scripts, the frame list format) this
 * code speaks, how each node announces it, and whether two nodes are
 * compatible.
 *
 * Owns the version numbers and the format of the announcement (the value of
 * a node's `skyport:alive:<node>` key: `VERSION:OLDEST`). It does not read
 * Redis or decide what a node does about a peer it cannot work with: the
 * broker does (it holds back from taking drones; see docs/scaling.md).
 *
 * Bump `busVersion` whenever a node of this code would misread, or be
 * misread by, a node of the code before; set `oldestCompatibleBusVersion`
 * to the oldest version this code still works with (a rolling upgrade is
 * possible between two versions when each is at least the other's oldest).
 */

/**
 * The cluster protocol this code speaks. Version 1 is every node from
 * before nodes announced a version: they write `1` in their alive key.
 */
export const busVersion = 2;

/** The oldest cluster protocol this code works with: version 1 shares this code's bus formats (it only did not announce itself). */
export const oldestCompatibleBusVersion = 1;

/** What one node announces: the protocol it speaks and the oldest it works with. */
export interface BusAnnouncement {
  version: number;
  oldestCompatible: number;
}

/** This code's own announcement. */
export const ownAnnouncement: BusAnnouncement = { version: busVersion, oldestCompatible: oldestCompatibleBusVersion };

/**
 * The value of a node's alive key.
 * @example encodeAnnouncement({ version: 2, oldestCompatible: 1 }) // "2:1"
 */
export function encodeAnnouncement(announcement: BusAnnouncement): string {
  return `${announcement.version}:${announcement.oldestCompatible}`;
}

/**
 * A node's announcement from its alive key's value: `VERSION:OLDEST`, or a
 * bare `1` (a node from before announcements). Null for anything else.
 */
export function decodeAnnouncement(value: unknown): BusAnnouncement | null {
  if (typeof value !== "string") return null;
  if (value === "1") return { version: 1, oldestCompatible: 1 };
  const match = /^([1-9]\d{0,5}):([1-9]\d{0,5})$/.exec(value);
  if (!match) return null;
  const version = Number(match[1]);
  const oldestCompatible = Number(match[2]);
  return oldestCompatible <= version ? { version, oldestCompatible } : null;
}

/**
 * Why this node cannot share a cluster with `peer` (each must be at least
 * the other's oldest compatible version), or null when it can. A peer whose
 * announcement cannot be read counts as incompatible: nothing is known of
 * what it writes.
 */
export function incompatibility(self: BusAnnouncement, peerNode: string, peer: BusAnnouncement | null): string | null {
  if (peer === null) return `node ${peerNode} announces a cluster protocol this node cannot read: it runs another version of skyport`;
  if (peer.version < self.oldestCompatible) {
    return `node ${peerNode} speaks cluster protocol ${peer.version}, older than the oldest this node works with (${self.oldestCompatible}): upgrade node ${peerNode}`;
  }
  if (self.version < peer.oldestCompatible) {
    return `node ${peerNode} speaks cluster protocol ${peer.version} and works only with ${peer.oldestCompatible} or newer; this node speaks ${self.version}: upgrade this node`;
  }
  return null;
}
