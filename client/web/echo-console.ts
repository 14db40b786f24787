/**
 * The echo console panel: Open, Close, Send and a log of OPEN, SEND,
 * RESPONSE, CLOSE (with code) and ERROR, as in the classic gorilla echo page.
 * Owns only the #echo-panel elements.
 */

/** Oldest log lines are dropped past this many, so a long session stays light. */
const maxLogLines = 200;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`echo console: missing #${id}`);
  return found as T;
}

/** The echo endpoint on the server that served this page. */
export function echoUrl(location: Location): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/echo`;
}

export function mountEchoConsole(): void {
  const openButton = element<HTMLButtonElement>("echo-open");
  const closeButton = element<HTMLButtonElement>("echo-close");
  const sendButton = element<HTMLButtonElement>("echo-send");
  const input = element<HTMLInputElement>("echo-input");
  const form = element<HTMLFormElement>("echo-form");
  const log = element<HTMLOListElement>("echo-log");
  const url = echoUrl(window.location);
  element("echo-url").textContent = url;
  let ws: WebSocket | null = null;

  function print(kind: "open" | "send" | "response" | "close" | "error", text: string): void {
    const item = document.createElement("li");
    item.className = `log-${kind}`;
    const label = document.createElement("strong");
    label.textContent = kind.toUpperCase();
    item.append(label, text ? `: ${text}` : "");
    log.append(item);
    while (log.childElementCount > maxLogLines) log.firstElementChild?.remove();
    log.scrollTop = log.scrollHeight;
  }

  function setConnected(connected: boolean): void {
    openButton.disabled = connected;
    closeButton.disabled = !connected;
    sendButton.disabled = !connected;
  }

  openButton.addEventListener("click", () => {
    if (ws) return;
    const socket = new WebSocket(url);
    ws = socket;
    openButton.disabled = true;
    socket.onopen = () => {
      print("open", url);
      setConnected(true);
    };
    socket.onmessage = (event) => {
      print("response", typeof event.data === "string" ? event.data : "<binary message>");
    };
    socket.onerror = () => print("error", "the connection failed");
    socket.onclose = (event) => {
      print("close", `code ${event.code}${event.reason ? ` (${event.reason})` : ""}`);
      if (ws === socket) ws = null;
      setConnected(false);
    };
  });

  closeButton.addEventListener("click", () => ws?.close(1000, "closed from the page"));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(input.value);
    print("send", input.value);
  });
}

mountEchoConsole();
