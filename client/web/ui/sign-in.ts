/**
 * Signing in: the tokens the dashboard presents, kept in session storage
 * (for this tab, until it closes; never in the URL, never in local
 * storage), and the dialog where an operator enters them, opened by the
 * top bar's button or by a refusal, which it shows in words.
 *
 * Owns #sign-in-button and #sign-in-dialog. It connects nothing: a
 * submitted form goes to `signIn`, and the caller reconnects with it.
 * One token field serves both roles unless a pilot token is given: a
 * signed identity token (JWT) fills the first field alone.
 */
import type { SkyportTokens } from "../../sdk/index.ts";
import { byId, setText } from "./dom.ts";

/** The session-storage key of the tokens: a JSON `SkyportTokens`. */
export const tokensStorageKey = "skyport.dashboard.tokens";

/** The tokens saved for this tab, or none (storage off, nothing saved, or not ours). */
export function loadTokens(storage: Pick<Storage, "getItem"> | null = sessionStorageOrNull()): SkyportTokens {
  try {
    const saved: unknown = JSON.parse(storage?.getItem(tokensStorageKey) ?? "{}");
    if (typeof saved !== "object" || saved === null) return {};
    const { token, pilotToken } = saved as Record<string, unknown>;
    return { ...(typeof token === "string" && token !== "" ? { token } : {}), ...(typeof pilotToken === "string" && pilotToken !== "" ? { pilotToken } : {}) };
  } catch {
    return {};
  }
}

/** Saves the tokens for this tab (none: forgets them). */
export function saveTokens(tokens: SkyportTokens, storage: Pick<Storage, "setItem" | "removeItem"> | null = sessionStorageOrNull()): void {
  try {
    if (tokens.token === undefined && tokens.pilotToken === undefined) storage?.removeItem(tokensStorageKey);
    else storage?.setItem(tokensStorageKey, JSON.stringify(tokens));
  } catch {
    // Storage may be off (private mode): the tokens then last until the page reloads.
  }
}

function sessionStorageOrNull(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export interface SignInCallbacks {
  /** The operator submitted tokens (both absent: signed out). */
  signIn(tokens: SkyportTokens): void;
}

export class SignIn {
  private readonly button = byId("sign-in-button", HTMLButtonElement);
  private readonly dialog = byId("sign-in-dialog", HTMLDialogElement);
  private readonly form = byId("sign-in-form", HTMLFormElement);
  private readonly reason = byId("sign-in-reason", HTMLElement);
  private readonly viewerField = byId("viewer-token", HTMLInputElement);
  private readonly pilotField = byId("pilot-token", HTMLInputElement);
  private readonly signOutButton = byId("sign-out", HTMLButtonElement);
  private tokens: SkyportTokens;

  constructor(private readonly callbacks: SignInCallbacks) {
    this.tokens = loadTokens();
    this.button.addEventListener("click", () => this.open(""));
    byId("sign-in-cancel", HTMLButtonElement).addEventListener("click", () => this.dialog.close());
    this.signOutButton.addEventListener("click", () => this.submit({}));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const token = this.viewerField.value.trim();
      const pilotToken = this.pilotField.value.trim();
      this.submit({ ...(token === "" ? {} : { token }), ...(pilotToken === "" ? {} : { pilotToken }) });
    });
    this.render();
  }

  /** The tokens to present now. */
  get current(): SkyportTokens {
    return this.tokens;
  }

  get isOpen(): boolean {
    return this.dialog.open;
  }

  /** Opens the dialog, with `why` (a refusal in words, or "" when the operator asked) above the fields. */
  open(why: string): void {
    setText(this.reason, why);
    this.reason.hidden = why === "";
    this.viewerField.value = this.tokens.token ?? "";
    this.pilotField.value = this.tokens.pilotToken ?? "";
    if (!this.dialog.open) this.dialog.showModal();
    // The field most likely at fault gets the focus.
    (why.includes("pilot") ? this.pilotField : this.viewerField).focus();
  }

  private submit(tokens: SkyportTokens): void {
    this.tokens = tokens;
    saveTokens(tokens);
    this.render();
    this.dialog.close();
    this.callbacks.signIn(tokens);
  }

  private render(): void {
    const signedIn = this.tokens.token !== undefined || this.tokens.pilotToken !== undefined;
    setText(this.button, signedIn ? "Signed in" : "Sign in");
    this.button.dataset.signedIn = String(signedIn);
    this.button.title = signedIn ? "Tokens are kept for this tab only: change them or sign out" : "Enter the server's tokens";
    this.signOutButton.hidden = !signedIn;
  }
}
