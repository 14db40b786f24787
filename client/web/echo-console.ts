/**
 * The echo console panel: Open, Close, Send and a log of OPEN, SEND,
 * RESPONSE, CLOSE (with code) and ERROR, as in the classic gorilla echo page.
 * Owns only the #echo-panel elements.
 */
import { sameServerSocketUrl } from "./socket-url.ts";
import { byId } from "./ui/dom.ts";

/** Oldest log lines are dropped past this many, so a long session stays light. */
const maxLogLines = 200;

export function mountEchoConsole(): void {
  const openButton = byId("echo-open", HTMLButtonElement);
  const closeButton = byId("echo-close", HTMLButtonElement);
  const sendButton = byId("echo-send", HTMLButtonElement);
  const input = byId("echo-input", HTMLInputElement);
  const form = byId("echo-form", HTMLFormElement);
  const log = byId("echo-log", HTMLOListElement);
  const url = sameServerSocketUrl(window.location, "/echo");
  byId("echo-url", HTMLElement).textContent = url;
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
