// Runs once, when the mongo container first starts on an empty mongo-data volume: the image's
// entrypoint runs /docker-entrypoint-initdb.d/*.js with mongosh, authenticated as the root user
// from MONGO_INITDB_ROOT_*. Creates, from the environment (the stack's .env), never from
// literals in this file:
//   - the admin user (on `admin`): manages users, databases, backups; not root.
//   - the app user (on MONGO_APP_DATABASE, default smoker): readWrite on that database only.
// An existing user is left as it is, so running the script again changes nothing.
// Passwords are never printed.

function required(name) {
  const value = process.env[name];
  if (value === undefined || value.trim() === "") {
    throw new Error(
      `${name} is not set: add it to the stack's .env (deploy-compose's env input), see infra/stacks/cloud/README.md`,
    );
  }
  return value;
}

function ensureUser(database, user, pwd, roles) {
  if (database.getUser(user) !== null) {
    print(`mongo-init: user ${user} on ${database.getName()} exists, left unchanged`);
    return;
  }
  database.createUser({ user, pwd, roles });
  print(
    `mongo-init: created user ${user} on ${database.getName()} (${roles.map((r) => r.role).join(", ")})`,
  );
}

const adminDb = db.getSiblingDB("admin");
const appDb = db.getSiblingDB(process.env.MONGO_APP_DATABASE || "smoker");

ensureUser(adminDb, required("MONGO_ADMIN_USERNAME"), required("MONGO_ADMIN_PASSWORD"), [
  { role: "userAdminAnyDatabase", db: "admin" },
  { role: "dbAdminAnyDatabase", db: "admin" },
  { role: "clusterMonitor", db: "admin" },
  { role: "backup", db: "admin" },
  { role: "restore", db: "admin" },
]);

ensureUser(appDb, required("MONGO_APP_USERNAME"), required("MONGO_APP_PASSWORD"), [
  { role: "readWrite", db: appDb.getName() },
]);
