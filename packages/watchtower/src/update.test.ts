import { render } from "@smoker/remote";
import { describe, expect, it } from "vitest";
import { parseFacts } from "./device.js";
import { imageFilter, triggerCommand, triggerConfig } from "./update.js";

describe("the HTTP trigger", () => {
  it("keeps the token off the command line: curl reads its config on stdin", () => {
    expect(render(triggerCommand(120_000))).toBe(
      "curl --silent --show-error --max-time 120 --output /dev/null --write-out '%{http_code}' --config - 2>&1",
    );
    expect(triggerConfig("100.64.0.7", 8080, ["reg:5000/app", "reg"], "t0ken")).toBe(
      'url = "http://100.64.0.7:8080/v1/update?image=reg%3A5000%2Fapp,reg"\nheader = "Authorization: Bearer t0ken"\n',
    );
  });

  it("refuses a token a curl config line could not carry", () => {
    expect(() => triggerConfig("h", 8080, [], 'a"b')).toThrow();
    expect(() => triggerConfig("h", 8080, [], "a b")).toThrow();
  });

  it("names images as both Watchtower rules compare them", () => {
    expect(imageFilter(["10.0.0.1:5000/smoker/backend:app", "nginx:1", "busybox"])).toEqual([
      "10.0.0.1",
      "10.0.0.1:5000/smoker/backend",
      "busybox",
      "nginx",
    ]);
  });
});

describe("parseFacts", () => {
  it("reads the address the device was reached at and its engine socket", () => {
    expect(
      parseFacts("SSH_CONNECTION=10.1.0.1 50000 100.64.0.7 22\nDOCKER_HOST=unix:///run/d.sock\n"),
    ).toEqual({ address: "100.64.0.7", dockerSocket: "/run/d.sock" });
    expect(parseFacts("PATH=/bin\n")).toEqual({ dockerSocket: "/var/run/docker.sock" });
  });
});
