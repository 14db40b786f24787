/**
 * Why the CLI's first connection failed, in what the server actually
 * answered: a WebSocket that fails its handshake tells its owner nothing
 * but "closed", so the CLI asks again with a plain HTTP request carrying the
 * same upgrade headers and reports the status and the server's one-line
 * reason (404 for a wrong path, 403 for a Host or Origin it refuses, 401
 * for a token, 503 while full or shutting down), or that nothing answered.
 *
 * Owns that one question and its wording; Bun's `fetch` only, no socket.
 */

/** How long the diagnostic request may take, milliseconds. */
const diagnosisTimeoutMs = 3000;
/** Longest server reason quoted, characters. */
const maxQuotedChars = 200;

/** What to try for each refusal status, after the server's own words. */
const hints: Record<number, string> = {
  400: "is this a skyport /drone endpoint?",
  401: "check the token (--token or SKYPORT_TOKEN)",
  404: "check the path in --url: skyport's endpoint is /drone",
  429: "wait, then try again",
  503: "the server is full or shutting down: try again shortly",
};

/**
 * One line saying why a WebSocket to `url` could not open, e.g.
 * `ws://h:8080/dron: the server answered 404 Not Found: no route for /dron
 * (check the path in --url: skyport's endpoint is /drone)`.
 */
export async function describeConnectFailure(url: URL, protocols: readonly string[]): Promise<string> {
  const http = new URL(url.href);
  http.protocol = url.protocol === "wss:" ? "https:" : "http:";
  const headers: Record<string, string> = {
    Connection: "Upgrade",
    Upgrade: "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16)))),
  };
  if (protocols.length > 0) headers["Sec-WebSocket-Protocol"] = protocols.join(", ");
  let response: Response;
  try {
    response = await fetch(http, { headers, redirect: "manual", signal: AbortSignal.timeout(diagnosisTimeoutMs) });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = typeof code === "string" ? ` (${code})` : error instanceof Error ? ` (${error.message})` : "";
    return `${url.href}: nothing answered at ${url.host}${why}: is the server running, and is the address right?`;
  }
  if (response.status === 101) {
    await response.body?.cancel();
    return `${url.href}: the server accepted a second attempt: the first failed on the way (try again)`;
  }
  const reason = (await response.text()).trim().split("\n")[0]!.slice(0, maxQuotedChars);
  const hint = hints[response.status];
  return `${url.href}: the server answered ${response.status} ${response.statusText}${reason === "" ? "" : `: ${reason}`}${hint === undefined ? "" : ` (${hint})`}`;
}
