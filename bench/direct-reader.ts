/**
 * Reads the load generator's sockets straight from their file descriptors:
 * epoll(7) and recv(2) through `bun:ffi`, into one buffer reused for every
 * read, instead of Bun's `data` callback, which copies every TCP chunk into
 * a fresh `Buffer`. At the maximum fan-out rate (1.2 GB/s of telemetry on
 * loopback, in 43 KB chunks) that copy and the page faults of its fresh
 * memory cost the load generator about a fifth of its core (profiled with
 * bench/loadgen-cost.ts, see docs/benchmarks.md); reading in place leaves it
 * the kernel's copy alone.
 *
 * Owns the readiness loop and the reads only: what the bytes mean is the
 * caller's business, and writing (a Socket.IO pong) still goes through Bun's
 * socket, which keeps owning each descriptor. A socket handed over is
 * `pause()`d first, so Bun stops reading it and nothing is read twice or
 * lost in between: bytes not yet read wait in the kernel.
 *
 * Linux on x86-64 only (the `epoll_event` layout below), like the rest of
 * the benchmark (/proc, taskset); `DirectReader.supported()` says whether it
 * can run here.
 */
import { dlopen, FFIType, read } from "bun:ffi";

/** Bytes read per recv: larger than any chunk seen at the maximum rate (43 KB on average), so a read rarely leaves bytes behind. */
const readBufferBytes = 256 * 1024;
/** Readiness events taken per epoll_wait. */
const maxEventsPerWait = 1024;
/**
 * Longest an idle epoll_wait blocks the event loop, in milliseconds: what a
 * runner command (mark, stop) waits at most before it is read while no
 * telemetry flows. Under load every wait returns at once.
 */
const idleWaitMilliseconds = 5;
/** `struct epoll_event` on x86-64: a packed uint32 of events and a uint64 of user data. */
const epollEventBytes = 12;
const EPOLLIN = 0x001;
const EPOLLERR = 0x008;
const EPOLLHUP = 0x010;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;

type Libc = ReturnType<typeof openLibc>;

function openLibc() {
  return dlopen("libc.so.6", {
    epoll_create1: { args: [FFIType.i32], returns: FFIType.i32 },
    epoll_ctl: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    epoll_wait: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    // The byte count fits 32 bits (reads are at most readBufferBytes), and -1 stays -1.
    recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    libc = process.platform === "linux" && process.arch === "x64" ? openLibc() : null;
  } catch {
    libc = null;
  }
  return libc;
}

/** What the reader asks of a socket it reads: that Bun's reading can be turned off, and (see `descriptorOf`) its descriptor. */
export interface ReadableSocket {
  pause(): void;
}

/** The descriptor under a Bun socket: Bun 1.4 has `fd` on its sockets at runtime, though bun-types does not declare it. */
function descriptorOf(socket: ReadableSocket): number {
  const fd = (socket as { fd?: unknown }).fd;
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0) {
    throw new Error(`direct reading needs the socket's file descriptor (Bun's socket.fd): got ${String(fd)}`);
  }
  return fd;
}

/** Called with each chunk read: `bytes` is valid only during the call (the buffer is reused). */
export type ChunkHandler<T> = (owner: T, bytes: Buffer) => void;
/** Called once when a socket's peer closed it or it failed; the reader stops watching it. */
export type EndHandler<T> = (owner: T, reason: string) => void;

/**
 * One epoll instance reading many sockets in turn: each `pump` waits for
 * readiness, reads every ready socket once (level-triggered: what a read
 * leaves behind is reported again by the next wait, so one busy socket
 * cannot starve the others), then yields to the event loop.
 */
export class DirectReader<T> {
  private readonly libc: Libc;
  private readonly epoll: number;
  private readonly events = new Uint8Array(epollEventBytes * maxEventsPerWait);
  private readonly eventView = new DataView(this.events.buffer);
  private readonly buffer = Buffer.allocUnsafe(readBufferBytes);
  /** Owners by the index stored in each socket's epoll data; null once ended. */
  private readonly owners: Array<{ owner: T; fd: number } | null> = [];
  private running = false;
  private closed = false;

  /** True when this platform can read directly (Linux, x86-64, libc loadable). */
  static supported(): boolean {
    return loadLibc() !== null;
  }

  constructor(
    private readonly onChunk: ChunkHandler<T>,
    private readonly onEnd: EndHandler<T>,
  ) {
    const loaded = loadLibc();
    if (!loaded) throw new Error(`direct reading needs Linux on x86-64 with libc.so.6: this is ${process.platform} on ${process.arch}`);
    this.libc = loaded;
    this.epoll = this.libc.epoll_create1(EPOLL_CLOEXEC);
    if (this.epoll < 0) throw new Error(`epoll_create1 failed: errno ${this.errno()}`);
  }

  /** Takes over reading `socket` (Bun stops reading it) and starts the loop if it is not running. */
  add(socket: ReadableSocket, owner: T): void {
    const fd = descriptorOf(socket);
    socket.pause();
    const index = this.owners.length;
    this.owners.push({ owner, fd });
    const event = new Uint8Array(epollEventBytes);
    const view = new DataView(event.buffer);
    view.setUint32(0, EPOLLIN, true);
    view.setUint32(4, index, true);
    if (this.libc.epoll_ctl(this.epoll, EPOLL_CTL_ADD, fd, event) !== 0) {
      throw new Error(`epoll_ctl(ADD, fd ${fd}) failed: errno ${this.errno()}`);
    }
    if (!this.running) {
      this.running = true;
      setImmediate(this.pump);
    }
  }

  /** Stops the loop and closes the epoll instance; the sockets stay Bun's (and paused). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.libc.close(this.epoll);
  }

  private readonly pump = (): void => {
    if (this.closed) return;
    const ready = this.libc.epoll_wait(this.epoll, this.events, maxEventsPerWait, idleWaitMilliseconds);
    if (ready < 0 && this.errno() !== EINTR) throw new Error(`epoll_wait failed: errno ${this.errno()}`);
    for (let i = 0; i < ready; i++) {
      const flags = this.eventView.getUint32(i * epollEventBytes, true);
      const index = this.eventView.getUint32(i * epollEventBytes + 4, true);
      const entry = this.owners[index];
      if (!entry) continue;
      const n = this.libc.recv(entry.fd, this.buffer, readBufferBytes, MSG_DONTWAIT);
      if (n > 0) this.onChunk(entry.owner, this.buffer.subarray(0, n));
      else if (n === 0) this.end(index, "closed by the server");
      else {
        const errno = this.errno();
        if (errno !== EAGAIN && errno !== EINTR) this.end(index, `recv failed: errno ${errno}`);
        else if (flags & (EPOLLERR | EPOLLHUP)) this.end(index, `socket error (epoll flags ${flags})`);
      }
    }
    setImmediate(this.pump);
  };

  private end(index: number, reason: string): void {
    const entry = this.owners[index]!;
    this.owners[index] = null;
    this.libc.epoll_ctl(this.epoll, EPOLL_CTL_DEL, entry.fd, null);
    this.onEnd(entry.owner, reason);
  }

  private errno(): number {
    return read.i32(this.libc.__errno_location()!);
  }
}
