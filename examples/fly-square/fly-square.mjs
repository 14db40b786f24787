// @ts-check
/**
 * Flies a 10 m square with skyport's SDK, the way a third-party app uses it:
 * `import … from "skyport/client"`, nothing else from skyport. Runs on Node
 * 22+ and Bun, and in a browser bundle; type-checked against the package's
 * declarations.
 *
 *   npm install && node fly-square.mjs [ws://localhost:8080/drone] [drone]
 *
 * SKYPORT_PILOT_TOKEN is sent with the claim when the server asks for one.
 */
import { SkyportClient, SkyportError } from "skyport/client";

const url = process.argv[2] ?? "ws://localhost:8080/drone";
const drone = process.argv[3] ?? "alpha";
/** Side of the square, metres. */
const sideMetres = 10;

const client = new SkyportClient({ url: `${url}?drone=${encodeURIComponent(drone)}` });
/** The latest frame's state and position, printed after each leg. */
let latest = "no telemetry yet";
client.on("telemetry", (frame) => {
  latest = `${frame.state} at x=${frame.position.x.toFixed(1)} y=${frame.position.y.toFixed(1)} z=${frame.position.z.toFixed(1)} m, battery ${frame.battery.toFixed(0)}%`;
});
client.connect();

/**
 * Sends one command and waits for it to end.
 * @param {Parameters<typeof client.command>[1]} name
 * @param {number[]} [args]
 */
async function fly(name, args = []) {
  const { done } = await client.command(drone, name, args);
  const { status, reason } = await done;
  if (status !== "completed") throw new Error(`${name} ${args.join(" ")} ${status}: ${reason ?? "no reason given"}`);
  console.log(`${name} ${args.join(" ")}`.trim().padEnd(12), latest);
}

try {
  await client.claim(drone, process.env.SKYPORT_PILOT_TOKEN);
  await fly("takeoff");
  for (let side = 0; side < 4; side++) {
    await fly("forward", [sideMetres]);
    await fly("cw", [90]);
  }
  await fly("land");
  await client.release(drone);
  console.log("square flown");
} catch (error) {
  console.error(error instanceof SkyportError ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await client.close();
}
