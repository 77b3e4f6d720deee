// Hand-written realtime helper: ticket → WebSocket → hello → live changes, with reconnect and
// catch-up. Everything HTTP goes through the generated SDK, so it uses the client you configured
// (base URL, auth). Frames are typed below; the server sends exactly these `type`s.
import type { Client } from './gen/client/index.js';
import { realtimeTicket, syncGet } from './gen/sdk.gen.js';
import type { ChangePublic, ConflictPublic, SyncSnapshotPublic } from './gen/types.gen.js';

/** First frame on every connection, sent unasked: the id to send as X-Connection-Id, and the version. */
export type HelloFrame = { type: 'hello'; connection_id: string; version: number };
/** A change made on another device (or by the server); `version` is the user's version after it. */
export type ChangeFrame = Omit<ChangePublic, 'created_at'> & { type: 'change' };
/** A write lost (or won) last-write-wins against another device's; kept until acknowledged. */
export type ConflictFrame = ConflictPublic & { type: 'conflict'; version: number };
/** A change too big to push: fetch GET /sync?since= instead. */
export type ResyncFrame = { type: 'resync'; version: number | null };
export type PongFrame = { type: 'pong'; version: number; connection_id: string };
export type ErrorFrame = { type: 'error'; code: string; message: string };
export type Frame = HelloFrame | ChangeFrame | ConflictFrame | ResyncFrame | PongFrame | ErrorFrame;

export type RealtimeStatus = 'connecting' | 'open' | 'closed';

export interface RealtimeOptions {
  /** The SDK client to use (defaults to the generated module's `client`). */
  client?: Client;
  /** The last version this device has applied; catch-up starts after it (0: from the beginning). */
  since?: number;
  /** Each change, once and in version order (pushed, or fetched by catch-up). */
  onChange?: (change: ChangeFrame | ChangePublic) => void;
  /** The whole state, when the change log no longer reaches back to `since`. */
  onSnapshot?: (snapshot: SyncSnapshotPublic) => void;
  /** Every frame as it arrives (conflicts, pongs, errors …). */
  onFrame?: (frame: Frame) => void;
  onStatus?: (status: RealtimeStatus) => void;
  /** Reconnect delays: initialMs doubling up to maxMs, with jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** A WebSocket implementation (browsers and Node ≥ 22 have one globally). */
  WebSocket?: typeof WebSocket;
}

export class Realtime {
  /** This connection's id (from `hello`): send it as `X-Connection-Id` to skip your own echoes. */
  connectionId: string | null = null;
  /** The last version applied. */
  version: number;
  private socket: WebSocket | null = null;
  private stopped = true;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: RealtimeOptions = {}) {
    this.version = options.since ?? 0;
  }

  /** Connect, and stay connected until `stop()`. */
  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000);
    this.socket = null;
  }

  /** Headers for a write made from this device, so the push does not come back to it. */
  headers(): Record<string, string> {
    return this.connectionId ? { 'X-Connection-Id': this.connectionId } : {};
  }

  private async connect(): Promise<void> {
    this.options.onStatus?.('connecting');
    const { data, error } = await realtimeTicket({ client: this.options.client }).catch((e: unknown) => ({
      data: undefined,
      error: e,
    }));
    if (error || !data || this.stopped) {
      this.retry();
      return;
    }
    const Socket = this.options.WebSocket ?? globalThis.WebSocket;
    const socket = new Socket(data.url);
    this.socket = socket;
    socket.onmessage = (event: MessageEvent) => this.receive(String(event.data));
    socket.onclose = () => {
      if (this.socket === socket) this.socket = null;
      this.connectionId = null;
      this.options.onStatus?.('closed');
      this.retry();
    };
  }

  private retry(): void {
    if (this.stopped) return;
    const initial = this.options.backoff?.initialMs ?? 500;
    const max = this.options.backoff?.maxMs ?? 30_000;
    const delay = Math.min(max, initial * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  private receive(raw: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(raw) as Frame;
    } catch {
      return;
    }
    this.options.onFrame?.(frame);
    this.enqueue(async () => {
      if (frame.type === 'hello') {
        this.connectionId = frame.connection_id;
        this.attempt = 0;
        this.options.onStatus?.('open');
        if (frame.version !== this.version) await this.catchUp();
      } else if (frame.type === 'change') {
        if (frame.version === this.version + 1) this.apply(frame);
        else if (frame.version > this.version) await this.catchUp(); // a gap: fetch what was missed
      } else if (frame.type === 'resync') {
        await this.catchUp();
      }
    });
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch(() => undefined);
  }

  private apply(change: ChangeFrame | ChangePublic): void {
    if (change.version <= this.version) return;
    this.version = change.version;
    this.options.onChange?.(change);
  }

  /** GET /sync?since=<version>, page by page; a snapshot when the log was compacted (or we are ahead). */
  private async catchUp(): Promise<void> {
    for (;;) {
      const { data, response } = await syncGet({ client: this.options.client, query: { since: this.version } });
      if (response.status === 409) {
        const snapshot = await syncGet({ client: this.options.client });
        if (snapshot.data) this.takeSnapshot(snapshot.data);
        return;
      }
      if (!data) return;
      if (data.mode === 'snapshot') {
        this.takeSnapshot(data);
        return;
      }
      for (const change of data.changes) this.apply(change);
      this.version = Math.max(this.version, data.version);
      if (!data.has_more) return;
    }
  }

  private takeSnapshot(data: Awaited<ReturnType<typeof syncGet>>['data']): void {
    if (data && data.mode === 'snapshot') {
      this.version = data.version;
      this.options.onSnapshot?.(data);
    }
  }
}
