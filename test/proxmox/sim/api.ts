// The contract between the PVE simulator (test/proxmox/sim/) and the tests that use it
// (test/proxmox/*.itg.test.ts). Types only: the simulator implements startPveSimulator in
// test/proxmox/sim/index.ts with exactly this shape; widen it there and here together.

/** An API token the simulator accepts: `Authorization: PVEAPIToken=<id>=<secret>`. */
export interface SimToken {
  /** "user@realm!tokenname", e.g. "deploy@pve!ci". */
  id: string;
  secret: string;
  /** "all", or the privileges it holds (e.g. ["VM.Audit"]); others answer 403. */
  privileges: "all" | string[];
}

/** A guest as the simulator holds it (its config as Proxmox stores it: net0, tags, ...). */
export interface SimGuest {
  vmid: number;
  type: "lxc" | "qemu";
  node: string;
  status: "running" | "stopped";
  template: boolean;
  /** Proxmox config keys and values, strings as GET .../config returns them. */
  config: Record<string, string | number>;
  snapshots: { name: string; description?: string; snaptime: number; parent?: string }[];
}

export interface SimRequest {
  method: string;
  /** The path below /api2/json, decoded, e.g. "/nodes/pve/lxc/104/config". */
  path: string;
  /** Query and body parameters as received (strings), after decoding. */
  params: Record<string, string>;
  /** The raw body as sent (form-encoded or JSON text), "" if none. */
  body: string;
  contentType: string | undefined;
  status: number;
}

export interface SimOptions {
  /** Node name (default "pve"). */
  node?: string;
  tokens: SimToken[];
  /** Guests present at start (templates, existing guests). */
  guests?: SimGuest[];
  /** How long a task runs before it stops (default 150 ms). */
  taskMs?: number;
  /**
   * Called when a guest starts or stops (a task's end), so a test can make the guest real:
   * e.g. accept SSH on a lab host whose address is the guest's. Its failure fails the task.
   */
  onStart?: (guest: SimGuest) => Promise<void>;
  onStop?: (guest: SimGuest) => Promise<void>;
  /**
   * Container templates (volume ids) present in storage "local"; creating a CT from another
   * ostemplate fails as on PVE. Default: DEFAULT_TEMPLATES in index.ts (debian-12/13, ubuntu-24.04).
   */
  templates?: string[];
  /** How long after a qemu guest starts its guest agent answers (default taskMs). */
  agentDelayMs?: number;
  /** Delay before a 401 answer (the real server waits 3 s; default 0). */
  authFailDelayMs?: number;
}

export interface PveSimulator {
  /** "https://127.0.0.1:PORT/api2/json" (the server speaks TLS with a self-signed cert). */
  url: string;
  /** SHA-256 fingerprint of its certificate, colon-hex uppercase as Proxmox shows it. */
  fingerprint: string;
  /** Its certificate (PEM), for the ca-certificate input. */
  certificate: string;
  /** Every request received, in order (including rejected ones). */
  requests: SimRequest[];
  /** Live state, for assertions and for drifting a guest by hand. */
  guests: Map<number, SimGuest>;
  /** Make the next task of this type (e.g. "qmclone", "vzstart") end with `TASK ERROR: message`. */
  failNextTask(type: string, message: string): void;
  /** Answer the next N requests (matching method and path prefix) with this HTTP status. */
  failNext(match: { method?: string; pathPrefix?: string }, status: number, count?: number): void;
  /** Task log of a UPID, as GET .../tasks/{upid}/log returns it. */
  taskLog(upid: string): string[];
  close(): Promise<void>;
}

export type StartPveSimulator = (options: SimOptions) => Promise<PveSimulator>;
