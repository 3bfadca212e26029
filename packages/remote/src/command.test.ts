import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import {
  and,
  cmd,
  inDir,
  or,
  pipe,
  quote,
  redirect,
  render,
  seq,
  UnsafeValueError,
  withEnv,
} from "./command.js";
import { hostileStrings } from "./testing.js";

describe("render", () => {
  test.each([
    [cmd("docker", "compose", "version", "--short"), "docker compose version --short"],
    [cmd("echo", "1.0;touch /tmp/pwn"), "echo '1.0;touch /tmp/pwn'"],
    [cmd("echo", "$(id)"), "echo '$(id)'"],
    [cmd("echo", "it's"), "echo 'it'\\''s'"],
    [cmd("echo", ""), "echo ''"],
    [cmd("echo", "A=b"), "echo 'A=b'"],
    [cmd("echo", "~root"), "echo '~root'"],
    [cmd("echo", "*"), "echo '*'"],
    [cmd("echo", "a\nb"), "echo 'a\nb'"],
    [and(cmd("true"), cmd("echo", "x y")), "true && echo 'x y'"],
    [or(cmd("false"), cmd("echo", "no")), "false || echo no"],
    [pipe(cmd("cat", "f"), cmd("sha256sum")), "cat f | sha256sum"],
    [seq(cmd("a"), cmd("b")), "a ; b"],
    [and(or(cmd("a"), cmd("b")), cmd("c")), "{ a || b; } && c"],
    [inDir("/opt/my app", cmd("ls")), "cd -- '/opt/my app' && ls"],
    [redirect(cmd("cat"), { stdout: "/tmp/x y" }), "cat > '/tmp/x y'"],
    [redirect(cmd("cat"), { stdout: "/tmp/x", append: true }), "cat >> /tmp/x"],
    [redirect(cmd("cat"), { stdin: "/tmp/in" }), "cat 0< /tmp/in"],
    [redirect(cmd("cat"), { stderr: "stdout" }), "cat 2>&1"],
    [redirect(and(cmd("a"), cmd("b")), { stderr: "/dev/null" }), "{ a && b; } 2> /dev/null"],
    [withEnv({ VERSION: "1.2 3" }, "env"), "VERSION='1.2 3' env"],
  ])("%#: renders %j", (s, expected) => {
    expect(render(s)).toBe(expected);
  });

  test("a value can never become an operator", () => {
    const rendered = render(cmd("echo", "&&", "|", ";", ">", "2>&1"));
    expect(rendered).toBe("echo '&&' '|' ';' '>' '2>&1'");
  });

  test("rejects NUL, bad env names and hand-made scripts", () => {
    expect(() => render(cmd("echo", "a\0b"))).toThrow(UnsafeValueError);
    expect(() => withEnv({ "A;B": "x" }, "env")).toThrow(/environment variable name/);
    expect(() => render({ parts: [] } as never)).toThrow(/built with cmd/);
    expect(() => and()).toThrow(/at least one command/);
  });
});

describe("quote round-trips through a real POSIX shell", () => {
  // The same property runs against a lab host in test/remote; this is the fast local check.
  test("hostile and random strings come back byte for byte", { timeout: 60_000 }, () => {
    const values = [...hostileStrings(), ...randomStrings(150, 7)];
    // One shell run prints every argument NUL-terminated, so 150+ values cost one spawn.
    const line = render(cmd("printf", "%s\\0", ...values));
    const out = spawnSync("/bin/sh", ["-c", line], { encoding: "utf8" });
    expect(out.status).toBe(0);
    expect(out.stdout.split("\0").slice(0, -1)).toEqual(values);
  });

  test("quote leaves safe words bare and quotes everything else", () => {
    expect(quote("docker-compose.yml")).toBe("docker-compose.yml");
    expect(quote("-rf")).toBe("-rf");
    expect(quote("a b")).toBe("'a b'");
    expect(quote("#x")).toBe("'#x'");
  });
});

/** Deterministic pseudo-random strings over a hostile alphabet (no NUL). */
function randomStrings(count: number, seed: number): string[] {
  const alphabet = [..." \t\n'\"\\$`(){}[]<>|&;*?~#=!-_aZ9é€😀\r\u00a0"];
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: next() % 24 }, () => alphabet[next() % alphabet.length]).join(""),
  );
}
