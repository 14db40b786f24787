/**
 * A small typed event emitter: `on(name, listener)` returns the function that
 * stops listening, and `emit` calls each listener with the payload its event
 * declares.
 *
 * Owns the listener sets only. A listener that throws is reported to the
 * `onListenerError` callback and never stops the other listeners or the
 * emitter's caller (a connection must not break because a page handler did).
 */

/** The function `on` returns: stops that one listener; calling it twice is harmless. */
export type StopListening = () => void;

export class Emitter<Events> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /** @param onListenerError told about each listener that threw, with the event's name. */
  constructor(private readonly onListenerError: (event: keyof Events, error: unknown) => void) {}

  /** Calls `listener` with every later `event`'s payload, until the returned function is called. */
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): StopListening {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Calls the event's listeners in the order they were added; listeners added meanwhile wait for the next emit. */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set] as Array<(payload: Events[E]) => void>) {
      try {
        listener(payload);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
  }
}
