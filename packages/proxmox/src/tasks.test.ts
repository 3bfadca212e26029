import { afterAll, beforeAll, expect, test } from "vitest";
import { ProxmoxClient } from "./client.js";
import { ProxmoxTaskError } from "./errors.js";
import { waitForTask } from "./tasks.js";
import {
  ok,
  type Recorded,
  type RecordingServer,
  selfSigned,
  startRecordingServer,
  upid,
} from "./testing.js";

const failed = upid("qmclone", 9000);
const warned = upid("vzdump", 104);
let polls = 0;
let server: RecordingServer;
let client: ProxmoxClient;
const log = Array.from({ length: 30 }, (_, i) => ({ n: i + 1, t: `line ${i + 1}` }));

function node(r: Recorded) {
  if (r.path.endsWith("/status")) {
    polls += 1;
    if (r.path.includes(warned)) return ok({ status: "stopped", exitstatus: "WARNINGS: 1" });
    return ok(
      polls < 3
        ? { status: "running" }
        : { status: "stopped", exitstatus: "clone failed: no space left" },
    );
  }
  if (r.path.endsWith("/log")) {
    const q = new URLSearchParams(r.query);
    const start = Number(q.get("start"));
    const limit = Number(q.get("limit"));
    return { body: { data: log.slice(start, start + limit), total: log.length } };
  }
  return { status: 501 };
}

beforeAll(async () => {
  server = await startRecordingServer(await selfSigned(), node);
  client = new ProxmoxClient({
    apiUrl: server.url,
    tokenId: "a@pve!b",
    tokenSecret: "s",
    trust: { kind: "fingerprint", fingerprints: [server.fingerprint] },
  });
});
afterAll(async () => {
  await client.close();
  await server.close();
});

test("polls until stopped, then fails with the exit status and the log's last lines", async () => {
  const error = (await waitForTask(client, failed, "Clone 9000", { pollMs: 1, tailLines: 3 }).catch(
    (e: unknown) => e,
  )) as ProxmoxTaskError;
  expect(error).toBeInstanceOf(ProxmoxTaskError);
  expect(error.exitstatus).toBe("clone failed: no space left");
  expect(error.logTail).toEqual(["line 28", "line 29", "line 30"]);
  expect(error.message).toContain("Clone 9000: task UPID:pve:");
  expect(polls).toBe(3);
  const logRequests = server.requests.filter((r) => r.path.endsWith("/log")).map((r) => r.query);
  expect(logRequests).toEqual(["start=0&limit=500"]);
  // The UPID travels percent-encoded in the path and arrives whole.
  expect(server.requests[0]!.path).toBe(`/nodes/pve/tasks/${failed}/status`);
});

test("WARNINGS: n is a success", async () => {
  expect(await waitForTask(client, warned, "Back up", { pollMs: 1 })).toEqual({
    upid: warned,
    exitstatus: "WARNINGS: 1",
  });
});

test("an answer that is no UPID is an error, not a wait", async () => {
  await expect(waitForTask(client, null, "Start")).rejects.toThrow(
    "Start: Proxmox answered null, not a task id (UPID)",
  );
});
