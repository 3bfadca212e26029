import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tokenEnvFile, watchtowerCommand, watchtowerOverride } from "./compose-file.js";

const settings = {
  image: "nickfedor/watchtower",
  scope: "smoker",
  pollSeconds: 3600,
  services: ["device-service"],
  apiAddress: "100.64.0.7",
  apiPort: 8080,
  dockerSocket: "/var/run/docker.sock",
};

describe("watchtowerOverride", () => {
  it("runs Watchtower label-enabled, scoped, with the API on the device's address only", () => {
    const doc = parse(watchtowerOverride(settings));
    expect(doc.services.watchtower).toEqual({
      image: "nickfedor/watchtower",
      restart: "unless-stopped",
      command: [
        "--label-enable",
        "--scope",
        "smoker",
        "--http-api-update",
        "--http-api-periodic-polls",
        "--interval",
        "3600",
      ],
      env_file: [".watchtower.env"],
      volumes: ["/var/run/docker.sock:/var/run/docker.sock"],
      ports: ["100.64.0.7:8080:8080"],
      labels: {
        "com.centurylinklabs.watchtower": "true",
        "com.centurylinklabs.watchtower.enable": "false",
        "com.centurylinklabs.watchtower.scope": "smoker",
      },
    });
    expect(doc.services["device-service"]).toEqual({
      labels: {
        "com.centurylinklabs.watchtower.enable": "true",
        "com.centurylinklabs.watchtower.scope": "smoker",
      },
    });
  });

  it("never passes --cleanup, and brackets an IPv6 address", () => {
    const text = watchtowerOverride({ ...settings, apiAddress: "fd7a::7" });
    expect(text).not.toContain("--cleanup");
    expect(parse(text).services.watchtower.ports).toEqual(["[fd7a::7]:8080:8080"]);
  });

  it("takes a schedule instead of an interval, never both", () => {
    expect(watchtowerCommand({ scope: "s", schedule: "0 0 4 * * *" }).slice(-2)).toEqual([
      "--schedule",
      "0 0 4 * * *",
    ]);
    expect(() => watchtowerCommand({ scope: "s", schedule: "x", pollSeconds: 60 })).toThrow();
  });

  it("puts the token in the env file only", () => {
    expect(tokenEnvFile("abc")).toBe("WATCHTOWER_HTTP_API_TOKEN=abc\n");
    expect(watchtowerOverride(settings)).not.toContain("TOKEN=");
  });
});
