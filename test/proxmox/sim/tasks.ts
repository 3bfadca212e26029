// Worker tasks as pve-common src/PVE/UPID.pm and pve-manager PVE/API2/Tasks.pm describe them:
// UPID:<node>:<pid %08X>:<pstart %08X>:<starttime %08X>:<type>:<id>:<user>:, status "running"
// then "stopped" with an exitstatus ("OK", "WARNINGS: n" or the error text), and a log whose last
// line is "TASK OK", "TASK WARNINGS: n" or "TASK ERROR: <message>".

export interface Task {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  /** user@realm (the token's user); `tokenid` holds the token name. */
  user: string;
  tokenid?: string;
  status: "running" | "stopped";
  exitstatus?: string;
  endtime?: number;
  log: string[];
  /** Settles when the task has stopped. */
  done: Promise<void>;
}

export interface TaskContext {
  log(line: string): void;
  warn(line: string): void;
}

export interface TaskSpec {
  type: string;
  id: string;
  /** "user@realm!token". */
  authid: string;
  /** The work, done when the task's time is up; throwing fails the task with its message. */
  run?: (ctx: TaskContext) => Promise<void> | void;
  /** Undo what the POST did at once (e.g. a clone's locked target) when the task fails. */
  rollback?: () => Promise<void> | void;
}

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, "0");

export class TaskRunner {
  readonly tasks = new Map<string, Task>();
  private nextPid = 0x1a2b0;
  private readonly pstart = 0x2f1c3d4;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<string, string[]>();
  private closed = false;

  constructor(
    private readonly node: string,
    private readonly taskMs: () => number,
  ) {}

  failNext(type: string, message: string): void {
    const list = this.failures.get(type) ?? [];
    list.push(message);
    this.failures.set(type, list);
  }

  start(spec: TaskSpec): Task {
    const pid = this.nextPid++;
    const starttime = Math.floor(Date.now() / 1000);
    const upid = `UPID:${this.node}:${hex8(pid)}:${hex8(this.pstart)}:${hex8(starttime)}:${spec.type}:${spec.id}:${spec.authid}:`;
    const bang = spec.authid.indexOf("!");
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    const task: Task = {
      upid,
      node: this.node,
      pid,
      pstart: this.pstart,
      starttime,
      type: spec.type,
      id: spec.id,
      user: bang >= 0 ? spec.authid.slice(0, bang) : spec.authid,
      ...(bang >= 0 ? { tokenid: spec.authid.slice(bang + 1) } : {}),
      status: "running",
      log: [],
      done,
    };
    this.tasks.set(upid, task);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.finish(task, spec).then(resolveDone);
    }, this.taskMs());
    this.timers.add(timer);
    return task;
  }

  private async finish(task: Task, spec: TaskSpec): Promise<void> {
    if (task.status === "stopped") return; // stopped by DELETE
    let warnings = 0;
    const ctx: TaskContext = {
      log: (line) => {
        task.log.push(line);
      },
      warn: (line) => {
        warnings++;
        task.log.push(`WARN: ${line}`);
      },
    };
    try {
      const injected = this.failures.get(spec.type)?.shift();
      if (injected !== undefined) throw new Error(injected);
      await spec.run?.(ctx);
      task.exitstatus = warnings > 0 ? `WARNINGS: ${warnings}` : "OK";
      task.log.push(warnings > 0 ? `TASK WARNINGS: ${warnings}` : "TASK OK");
    } catch (e) {
      const message = (e instanceof Error ? e.message : String(e)).replace(/\n+$/, "");
      if (!this.closed) await spec.rollback?.();
      task.exitstatus = message;
      task.log.push(`TASK ERROR: ${message}`);
    }
    task.endtime = Math.floor(Date.now() / 1000);
    task.status = "stopped";
  }

  /** Stop a running task at once (DELETE /nodes/{node}/tasks/{upid}). */
  async stopTask(task: Task): Promise<void> {
    if (task.status !== "running") return;
    task.exitstatus = "unexpected status";
    task.log.push("received interrupt", "TASK ERROR: interrupted by signal");
    task.endtime = Math.floor(Date.now() / 1000);
    task.status = "stopped";
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** The UPID regex of pve-common UPID.pm (as in contract-facts.json tasks.upid_regex). */
export const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;
