import { main } from "./cli.js";

process.exitCode = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: process.stdout.isTTY === true && !process.env.CI,
  cwd: process.cwd(),
  env: process.env,
});
