import { describe, expect, expectTypeOf, test } from "vitest";
import { InputError } from "./errors.js";
import { getInputs, type InputDef, input } from "./inputs.js";
import { captureOutput } from "./internal/capture.js";

function from(values: Record<string, string>) {
  return (name: string) => values[name] ?? "";
}

/** Parses one raw value with one definition, as input "x". */
function parseAs<T>(def: InputDef<T>, raw: string): T | undefined {
  return getInputs({ x: def }, from({ x: raw })).x;
}

function errorOf(def: InputDef<unknown>, raw: string): string {
  try {
    parseAs(def, raw);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).message;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

async function addMaskLines(fn: () => unknown): Promise<string[]> {
  const { text } = await captureOutput(async () => fn());
  return text
    .split("\n")
    .filter((line) => line.startsWith("::add-mask::"))
    .map((line) => line.slice("::add-mask::".length));
}

describe("input.boolean", () => {
  test.each([
    ["true", true],
    ["True", true],
    ["TRUE", true],
    ["false", false],
    ["False", false],
    ["FALSE", false],
    ["  true\n", true],
  ])("%j -> %s", (raw, expected) => {
    expect(parseAs(input.boolean(), raw)).toBe(expected);
  });

  test.each(["yes", "1", "on", "tRUE", "true false"])("%j is rejected", (raw) => {
    expect(errorOf(input.boolean(), raw)).toBe(
      `Input "x" must be true or false (got ${JSON.stringify(raw)})`,
    );
  });
});

describe("input.integer", () => {
  const port = input.integer({ min: 1, max: 65535 });
  test.each([
    ["22", 22],
    [" 65535 ", 65535],
    ["1", 1],
    ["+8", 8],
    ["007", 7],
  ])("%j -> %d", (raw, expected) => {
    expect(parseAs(port, raw)).toBe(expected);
  });

  test.each(["0", "65536", "-1", "22.5", "1e3", "0x16", "twenty", "9007199254740993"])(
    "%j is rejected",
    (raw) => {
      expect(errorOf(port, raw)).toBe(
        `Input "x" must be an integer from 1 to 65535 (got ${JSON.stringify(raw)})`,
      );
    },
  );

  test.each([
    [input.integer(), "must be an integer"],
    [input.integer({ min: 0 }), "must be an integer at least 0"],
    [input.integer({ max: 9 }), "must be an integer at most 9"],
  ])("rule %#: %s", (def, rule) => {
    expect(errorOf(def, "x")).toBe(`Input "x" ${rule} (got "x")`);
  });
});

describe("input.enum", () => {
  const mode = input.enum(["plan", "apply"] as const, { default: "plan" });
  test.each([
    ["plan", "plan"],
    ["apply", "apply"],
    [" apply ", "apply"],
    ["", "plan"],
  ])("%j -> %s", (raw, expected) => {
    expect(parseAs(mode, raw)).toBe(expected);
  });

  test.each(["Apply", "destroy", "plan,apply"])("%j is rejected", (raw) => {
    expect(errorOf(mode, raw)).toBe(
      `Input "x" must be one of: plan, apply (got ${JSON.stringify(raw)})`,
    );
  });
});

describe("input.string", () => {
  const version = input.string({ pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/ });
  test.each([
    ["1.0.0", "1.0.0"],
    ["  v2_rc-1\n", "v2_rc-1"],
    ["latest", "latest"],
  ])("%j -> %j", (raw, expected) => {
    expect(parseAs(version, raw)).toBe(expected);
  });

  test.each(["1.0;touch /tmp/pwn", ".hidden", "a b", "$(id)"])("%j is rejected", (raw) => {
    expect(errorOf(version, raw)).toBe(
      `Input "x" must match ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ (got ${JSON.stringify(raw)})`,
    );
  });

  test("an unanchored pattern still has to match the whole value", () => {
    const digits = input.string({ pattern: /[0-9.]+/ });
    expect(parseAs(digits, "1.2")).toBe("1.2");
    expect(errorOf(digits, "1.0;rm -rf /")).toBe(
      'Input "x" must match [0-9.]+ (got "1.0;rm -rf /")',
    );
  });

  test("a global pattern gives the same answer every time", () => {
    const word = input.string({ pattern: /[a-z]+/g });
    expect([parseAs(word, "abc"), parseAs(word, "abc"), parseAs(word, "abc")]).toEqual([
      "abc",
      "abc",
      "abc",
    ]);
  });

  test("maxLength is checked without echoing the value", () => {
    expect(errorOf(input.string({ maxLength: 3 }), "abcd")).toBe(
      'Input "x" must be at most 3 characters long (got 4)',
    );
  });

  test("long values are cut short in messages", () => {
    const message = errorOf(input.string({ pattern: /a/ }), "b".repeat(500));
    expect(message).toBe(`Input "x" must match a (got "${"b".repeat(120)}…")`);
  });

  test("a multi-line value keeps its inner lines and loses outer whitespace", () => {
    const key = "-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----";
    expect(parseAs(input.string(), `\n  ${key}\n\n`)).toBe(key);
  });
});

describe("input.duration", () => {
  const timeout = input.duration({ min: "1s", max: "1h" });
  test.each([
    ["250ms", 250],
    ["1500ms", 1500],
    ["90s", 90_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1h0m0s", 3_600_000],
    ["2s500ms", 2500],
    ["120", 120_000],
    ["1.5", 1500],
    [" 30s ", 30_000],
  ])("%j -> %d ms", (raw, expected) => {
    expect(parseAs(input.duration(), raw)).toBe(expected);
  });

  test.each(["s", "5 m", "1d", "30s1m", "1.5s", "-5s", "1m1m", "ms", "5M"])(
    "%j is malformed",
    (raw) => {
      expect(errorOf(timeout, raw)).toBe(
        `Input "x" must be a duration such as 250ms, 90s, 5m, 1h or 1m30s (a bare number means seconds) (got ${JSON.stringify(raw)})`,
      );
    },
  );

  test.each(["999ms", "0", "1h1ms", "2h"])("%j is out of range", (raw) => {
    expect(errorOf(timeout, raw)).toBe(
      `Input "x" must be from 1s to 1h (got ${JSON.stringify(raw)})`,
    );
  });

  test("the default is written like a user would write it and parsed to ms", () => {
    expect(parseAs(input.duration({ default: "120s" }), "")).toBe(120_000);
  });
});

describe("input.list", () => {
  test.each([
    ["a.yml\nb.yml", ["a.yml", "b.yml"]],
    ["  a.yml  \r\n\n# staging only\n   b.yml\n", ["a.yml", "b.yml"]],
    ["a,b", ["a,b"]],
    ["#only a comment", []],
  ])("newline list %j", (raw, expected) => {
    expect(parseAs(input.list(), raw)).toEqual(expected);
  });

  test.each([
    ["a, b,,c", ["a", "b", "c"]],
    ["a,b\nc\n# d,e", ["a", "b", "c"]],
  ])("comma-or-newline list %j", (raw, expected) => {
    expect(parseAs(input.list({ separator: "comma-or-newline" }), raw)).toEqual(expected);
  });

  test("the default is a fresh copy each time", () => {
    const spec = { files: input.list({ default: ["docker-compose.yml"] }) };
    const first = getInputs(spec, from({}));
    first.files.push("mutated.yml");
    expect(getInputs(spec, from({})).files).toEqual(["docker-compose.yml"]);
  });

  test("a required list of only comments is rejected", () => {
    expect(errorOf(input.list({ required: true }), "# nothing")).toBe(
      'Input "x" is required and must list at least one entry',
    );
  });
});

describe("input.keyValues", () => {
  test("parses KEY=VALUE lines, skipping blanks and comments, keeping = in values", () => {
    const raw =
      "# database\nDB_HOST=db\n\n  DB_URL=postgres://u:p@db/x?a=b\nEMPTY=\nSPACED= x \r\n";
    expect(parseAs(input.keyValues(), raw)).toEqual(
      new Map([
        ["DB_HOST", "db"],
        ["DB_URL", "postgres://u:p@db/x?a=b"],
        ["EMPTY", ""],
        ["SPACED", " x "],
      ]),
    );
  });

  test('quotes are kept literally: the value is the raw text after the first "="', () => {
    expect(parseAs(input.keyValues(), 'A="b c"')?.get("A")).toBe('"b c"');
  });

  test.each([
    ["A=1\nnot a pair\n", 'Input "x" line 2: must be KEY=VALUE (got "not a pair")'],
    ["1A=1", 'Input "x" line 1: key must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "1A")'],
    ["A B=1", 'Input "x" line 1: key must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "A B")'],
    ["=1", 'Input "x" line 1: key must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "")'],
    ["A=1\n# c\nB=2\nA=3", 'Input "x" line 4: repeats the key of line 1 (got "A")'],
  ])("%j is rejected", (raw, message) => {
    expect(errorOf(input.keyValues(), raw)).toBe(message);
  });

  test.each([
    ["A=1\nhunter2\n", 'Input "x" line 2: must be KEY=VALUE (value hidden)'],
    ["p@ss=word", 'Input "x" line 1: key must match ^[A-Za-z_][A-Za-z0-9_]*$ (value hidden)'],
    ["TOKEN=a\nTOKEN=b", 'Input "x" line 2: repeats the key of line 1 (value hidden)'],
  ])("secret %j is rejected without its content", async (raw, message) => {
    const def = input.keyValues({ secret: true });
    // Captured so the add-mask lines do not clutter the test output.
    const { value: error } = await captureOutput(async () => errorOf(def, raw));
    expect(error).toBe(message);
    expect(error).not.toContain("hunter2");
    expect(error).not.toContain("word");
  });

  test("a default is a Map, copied per call", () => {
    const spec = { env: input.keyValues({ default: { A: "1" } }) };
    getInputs(spec, from({})).env.set("B", "2");
    expect(getInputs(spec, from({})).env).toEqual(new Map([["A", "1"]]));
  });
});

describe("getInputs", () => {
  const spec = {
    host: input.string({ required: true }),
    port: input.integer({ default: 22, min: 1, max: 65535 }),
    "private-key": input.string({ required: true, secret: true }),
    "insecure-skip-host-key-check": input.boolean({ default: false }),
    mode: input.enum(["plan", "apply"] as const, { default: "plan" }),
    "wait-timeout": input.duration({ default: "120s", min: "1s", max: "1h" }),
    "compose-files": input.list({ default: ["docker-compose.yml"] }),
    env: input.keyValues({ secret: true }),
    version: input.string({ pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/ }),
  };

  test("applies defaults and infers types from the spec", async () => {
    const { value: inputs } = await captureOutput(async () =>
      getInputs(spec, from({ host: "10.0.0.5", "private-key": "KEY" })),
    );
    expect(inputs).toEqual({
      host: "10.0.0.5",
      port: 22,
      "private-key": "KEY",
      "insecure-skip-host-key-check": false,
      mode: "plan",
      "wait-timeout": 120_000,
      "compose-files": ["docker-compose.yml"],
      env: undefined,
      version: undefined,
    });
    expectTypeOf(inputs.host).toEqualTypeOf<string>();
    expectTypeOf(inputs.port).toEqualTypeOf<number>();
    expectTypeOf(inputs["insecure-skip-host-key-check"]).toEqualTypeOf<boolean>();
    expectTypeOf(inputs.mode).toEqualTypeOf<"plan" | "apply">();
    expectTypeOf(inputs["wait-timeout"]).toEqualTypeOf<number>();
    expectTypeOf(inputs["compose-files"]).toEqualTypeOf<string[]>();
    expectTypeOf(inputs.env).toEqualTypeOf<Map<string, string> | undefined>();
    expectTypeOf(inputs.version).toEqualTypeOf<string | undefined>();
  });

  test("a missing required input names itself", async () => {
    const { value: error } = await captureOutput(async () => {
      try {
        getInputs(spec, from({ host: " \n ", "private-key": "KEY" }));
      } catch (caught) {
        return caught;
      }
    });
    expect(error).toEqual(new InputError("host", "is required"));
    expect(error).toMatchObject({ message: 'Input "host" is required', input: "host" });
  });

  test("the first failing input in spec order is reported", async () => {
    const values = { host: "h", port: "0", "private-key": "k", mode: "destroy" };
    const { value: error } = await captureOutput(async () => {
      try {
        getInputs(spec, from(values));
      } catch (caught) {
        return caught;
      }
    });
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ input: "port", rule: "must be an integer from 1 to 65535" });
  });

  test("a secret input's error never contains its value", async () => {
    const def = input.string({ secret: true, pattern: /^[a-z]+$/ });
    const { value: message } = await captureOutput(async () => errorOf(def, "Sup3r-Secret!"));
    expect(message).toBe('Input "x" must match ^[a-z]+$ (value hidden)');
  });

  test("reads through the source given, with the action.yml names", () => {
    const asked: string[] = [];
    getInputs({ "dry-run": input.boolean({ default: true }) }, (name) => {
      asked.push(name);
      return "";
    });
    expect(asked).toEqual(["dry-run"]);
  });
});

describe("secret masking", () => {
  test("masks the whole value and each non-empty line, once each", async () => {
    const key = "-----BEGIN KEY-----\nAAAA\n\nBBBB\n-----END KEY-----\n";
    const masks = await addMaskLines(() =>
      getInputs({ key: input.string({ secret: true }) }, from({ key })),
    );
    expect(masks).toEqual([
      "-----BEGIN KEY-----%0AAAAA%0A%0ABBBB%0A-----END KEY-----",
      "-----BEGIN KEY-----",
      "AAAA",
      "BBBB",
      "-----END KEY-----",
    ]);
  });

  test("masks each value of a secret keyValues input", async () => {
    const masks = await addMaskLines(() =>
      getInputs({ env: input.keyValues({ secret: true }) }, from({ env: "A=one\nB=two=2\nC=" })),
    );
    expect(masks).toEqual(
      expect.arrayContaining(["A=one%0AB=two=2%0AC=", "A=one", "B=two=2", "one", "two=2"]),
    );
    expect(masks).not.toContain("");
  });

  test("masks each item of a secret list, commas included", async () => {
    const masks = await addMaskLines(() =>
      getInputs(
        { tokens: input.list({ secret: true, separator: "comma-or-newline" }) },
        from({ tokens: "aa,bb\ncc" }),
      ),
    );
    expect(masks).toEqual(expect.arrayContaining(["aa,bb", "cc", "aa", "bb"]));
  });

  test("masks secrets before any input is parsed, even when an earlier input fails", async () => {
    const masks = await addMaskLines(() => {
      try {
        getInputs(
          { port: input.integer(), token: input.string({ secret: true }) },
          from({ port: "nope", token: "t0ken" }),
        );
      } catch {
        // expected
      }
    });
    expect(masks).toEqual(["t0ken"]);
  });

  test("does not mask inputs that are not secret", async () => {
    const masks = await addMaskLines(() =>
      getInputs({ host: input.string() }, from({ host: "example.org" })),
    );
    expect(masks).toEqual([]);
  });
});

describe("spec definition", () => {
  test.each([
    [() => input.integer({ default: 0, min: 1 }), "Invalid default for integer input"],
    [() => input.duration({ default: "2h", max: "1h" }), "Invalid default for duration input"],
    [() => input.duration({ min: "soon" }), 'Invalid min for duration input: "soon"'],
    [() => input.string({ required: true, default: "x" }), "cannot be both required and defaulted"],
  ])("a bad definition fails when defined (%#)", (define, message) => {
    expect(define).toThrow(message);
  });
});

describe("mask: false (the CLI)", () => {
  test("parses secrets the same but never prints ::add-mask::", () => {
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const spec = {
        token: input.string({ secret: true }),
        env: input.keyValues({ secret: true }),
      };
      const got = getInputs(spec, (n) => (n === "token" ? "hunter2" : "A=secret-value"), {
        mask: false,
      });
      expect(got.token).toBe("hunter2");
      expect(got.env?.get("A")).toBe("secret-value");
    } finally {
      process.stdout.write = write;
    }
    expect(printed.join("")).not.toContain("add-mask");
  });
});
