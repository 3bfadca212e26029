// infra/stacks/cloud/mongo-init/01-users.js, run as the mongo image runs it (mongosh, as root,
// on the first start), against a stand-in for the part of mongosh it uses. No MongoDB image can
// be pulled here; the stand-in rejects what MongoDB rejects, per MongoDB's db.createUser() and
// built-in roles reference:
//   - createUser returns a duplicate-user error when the user exists on that database;
//   - pwd is required (outside $external) and a user document needs a name;
//   - a role is looked up on the database the role document names: read, readWrite, dbAdmin,
//     dbOwner, userAdmin exist on every database; clusterAdmin, clusterManager, clusterMonitor,
//     hostManager, backup, restore, readAnyDatabase, readWriteAnyDatabase,
//     userAdminAnyDatabase, dbAdminAnyDatabase and root only on admin ("No role named X@db").
//   - getUser returns null for a user that does not exist.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { ROOT } from "../deploy/support.js";

const SCRIPT = readFileSync(join(ROOT, "infra/stacks/cloud/mongo-init/01-users.js"), "utf8");

const EVERY_DB_ROLES = ["read", "readWrite", "dbAdmin", "dbOwner", "userAdmin"];
const ADMIN_ONLY_ROLES = [
  "clusterAdmin",
  "clusterManager",
  "clusterMonitor",
  "hostManager",
  "backup",
  "restore",
  "readAnyDatabase",
  "readWriteAnyDatabase",
  "userAdminAnyDatabase",
  "dbAdminAnyDatabase",
  "root",
];

interface Role {
  role: string;
  db: string;
}
interface User {
  user: string;
  db: string;
  pwd: string;
  roles: Role[];
}

class MongoServer {
  readonly users = new Map<string, User>();
  readonly printed: string[] = [];

  database(name: string) {
    if (name === "" || /[/\\. "$]/.test(name)) throw new Error(`Invalid database name: ${name}`);
    const server = this;
    return {
      getName: () => name,
      getSiblingDB: (other: string) => server.database(other),
      getUser(user: string) {
        const found = server.users.get(`${name}.${user}`);
        return found === undefined
          ? null
          : { _id: `${name}.${user}`, user, db: name, roles: found.roles };
      },
      createUser(doc: { user?: string; pwd?: string; roles?: Array<Role | string> }) {
        if (typeof doc.user !== "string" || doc.user === "") {
          throw new Error("MongoServerError: Must provide a 'user' field");
        }
        if (typeof doc.pwd !== "string" && name !== "$external") {
          throw new Error("MongoServerError: Must provide a 'pwd' field for all user documents");
        }
        if (doc.pwd === "") throw new Error("MongoServerError: Password cannot be empty");
        if (!Array.isArray(doc.roles)) throw new Error("MongoServerError: roles must be an array");
        const roles = doc.roles.map((r) => (typeof r === "string" ? { role: r, db: name } : r));
        for (const r of roles) {
          const exists =
            EVERY_DB_ROLES.includes(r.role) ||
            (r.db === "admin" && ADMIN_ONLY_ROLES.includes(r.role));
          if (!exists) throw new Error(`MongoServerError: No role named ${r.role}@${r.db}`);
        }
        const key = `${name}.${doc.user}`;
        if (server.users.has(key)) {
          throw new Error(`MongoServerError: User "${doc.user}@${name}" already exists`);
        }
        server.users.set(key, { user: doc.user, db: name, pwd: doc.pwd!, roles });
        return { ok: 1 };
      },
    };
  }

  /** Runs the script as the entrypoint does: `mongosh test 01-users.js` (db is "test"). */
  run(env: Record<string, string>): void {
    runInNewContext(SCRIPT, {
      db: this.database("test"),
      print: (...args: unknown[]) => this.printed.push(args.join(" ")),
      process: { env: { ...env } },
    });
  }
}

const ENV = {
  MONGO_ADMIN_USERNAME: "ops",
  MONGO_ADMIN_PASSWORD: "admin-pw-9f3c",
  MONGO_APP_USERNAME: "smoker-app",
  MONGO_APP_PASSWORD: "app-pw-71ab",
};

describe("mongo-init/01-users.js", () => {
  it("creates the admin user on admin and the app user on the app database, from the environment", () => {
    const server = new MongoServer();
    server.run(ENV);
    expect(server.users.get("admin.ops")).toEqual({
      user: "ops",
      db: "admin",
      pwd: "admin-pw-9f3c",
      roles: expect.arrayContaining([
        { role: "userAdminAnyDatabase", db: "admin" },
        { role: "backup", db: "admin" },
        { role: "restore", db: "admin" },
      ]),
    });
    // Not root: the admin manages users and backups, it is not the break-glass account.
    expect(server.users.get("admin.ops")!.roles.map((r) => r.role)).not.toContain("root");
    expect(server.users.get("smoker.smoker-app")).toEqual({
      user: "smoker-app",
      db: "smoker",
      pwd: "app-pw-71ab",
      roles: [{ role: "readWrite", db: "smoker" }],
    });
    expect(server.users.size).toBe(2);
  });

  it("puts the app user on MONGO_APP_DATABASE", () => {
    const server = new MongoServer();
    server.run({ ...ENV, MONGO_APP_DATABASE: "pitmaster" });
    expect(server.users.get("pitmaster.smoker-app")?.roles).toEqual([
      { role: "readWrite", db: "pitmaster" },
    ]);
  });

  it("prints who it created, never a password", () => {
    const server = new MongoServer();
    server.run(ENV);
    const log = server.printed.join("\n");
    expect(log).toContain("created user ops on admin");
    expect(log).toContain("created user smoker-app on smoker (readWrite)");
    expect(log).not.toContain("admin-pw-9f3c");
    expect(log).not.toContain("app-pw-71ab");
  });

  it("leaves existing users alone when it runs again", () => {
    const server = new MongoServer();
    server.run(ENV);
    const before = structuredClone([...server.users]);
    server.run({ ...ENV, MONGO_APP_PASSWORD: "changed" });
    expect([...server.users]).toEqual(before);
    expect(server.printed.filter((l) => l.includes("exists, left unchanged"))).toHaveLength(2);
  });

  it.each(Object.keys(ENV))("stops, naming %s, when it is not set", (missing) => {
    const server = new MongoServer();
    const env = Object.fromEntries(Object.entries(ENV).filter(([k]) => k !== missing));
    expect(() => server.run(env)).toThrow(`${missing} is not set: add it to the stack's .env`);
  });

  it("treats a blank value as missing", () => {
    expect(() => new MongoServer().run({ ...ENV, MONGO_APP_PASSWORD: "  " })).toThrow(
      "MONGO_APP_PASSWORD is not set",
    );
  });

  it("the stand-in rejects what MongoDB rejects", () => {
    const db = new MongoServer().database("smoker");
    expect(() => db.createUser({ user: "a", pwd: "x", roles: ["userAdminAnyDatabase"] })).toThrow(
      "No role named userAdminAnyDatabase@smoker",
    );
    expect(() => db.createUser({ user: "a", roles: [] })).toThrow("Must provide a 'pwd' field");
    db.createUser({ user: "a", pwd: "x", roles: [] });
    expect(() => db.createUser({ user: "a", pwd: "y", roles: [] })).toThrow(
      'User "a@smoker" already exists',
    );
  });
});
