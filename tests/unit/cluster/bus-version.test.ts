/** Cluster protocol announcements: the alive key's value both ways, and which nodes can share a cluster. */
import { describe, expect, test } from "bun:test";
import { busVersion, decodeAnnouncement, encodeAnnouncement, incompatibility, oldestCompatibleBusVersion, ownAnnouncement } from "../../../src/runtime/cluster/bus-version.ts";

describe("announcements", () => {
  test("round-trip, and a bare 1 is a node from before announcements", () => {
    expect(encodeAnnouncement(ownAnnouncement)).toBe(`${busVersion}:${oldestCompatibleBusVersion}`);
    expect(decodeAnnouncement(encodeAnnouncement({ version: 7, oldestCompatible: 3 }))).toEqual({ version: 7, oldestCompatible: 3 });
    expect(decodeAnnouncement("1")).toEqual({ version: 1, oldestCompatible: 1 });
  });

  test("anything else is unreadable: null, never a guess", () => {
    for (const value of ["", "2", "0:0", "2:3", "-1:1", "2:1:0", "2:01", "1e3:1", " 2:1", "2:1\n", "9999999:1", null, undefined, 2, ["2:1"]]) {
      expect(decodeAnnouncement(value)).toBeNull();
    }
  });
});

describe("incompatibility", () => {
  const self = { version: 5, oldestCompatible: 3 };

  test("each node at least the other's oldest: compatible, in a rolling upgrade either way", () => {
    expect(incompatibility(self, "b", { version: 3, oldestCompatible: 1 })).toBeNull();
    expect(incompatibility(self, "b", { version: 5, oldestCompatible: 5 })).toBeNull();
    expect(incompatibility(self, "b", { version: 6, oldestCompatible: 4 })).toBeNull();
  });

  test("a peer too old names the peer to upgrade; a peer that needs newer names this node", () => {
    expect(incompatibility(self, "b", { version: 2, oldestCompatible: 1 })).toBe("node b speaks cluster protocol 2, older than the oldest this node works with (3): upgrade node b");
    expect(incompatibility(self, "b", { version: 8, oldestCompatible: 6 })).toBe("node b speaks cluster protocol 8 and works only with 6 or newer; this node speaks 5: upgrade this node");
  });

  test("an unreadable announcement is incompatible: nothing is known of what that node writes", () => {
    expect(incompatibility(self, "b", null)).toContain("node b announces a cluster protocol this node cannot read");
  });

  test("this code works with the nodes of the release before announcements", () => {
    expect(incompatibility(ownAnnouncement, "old", decodeAnnouncement("1"))).toBeNull();
  });
});
