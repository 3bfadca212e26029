import { readFileSync } from "node:fs";
import { notifyInputSpec } from "@smoker/discord";
import { expect, test } from "vitest";
import { parse as parseYaml } from "yaml";

const action = parseYaml(readFileSync(new URL("../action.yml", import.meta.url), "utf8")) as {
  inputs: Record<string, { description?: string; default?: string; required?: boolean }>;
};

test("action.yml declares exactly the inputs the code reads, each described", () => {
  expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(notifyInputSpec).sort());
  for (const [name, entry] of Object.entries(action.inputs)) {
    expect(entry.description, name).toMatch(/\S{3}/);
    expect(entry.required === true, name).toBe(
      notifyInputSpec[name as keyof typeof notifyInputSpec].required,
    );
  }
});
