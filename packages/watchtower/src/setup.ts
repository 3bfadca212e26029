import { up } from "@smoker/compose";
import type { Remote } from "@smoker/remote";
import {
  TOKEN_FILE,
  tokenEnvFile,
  WATCHTOWER_FILE,
  type WatchtowerSettings,
  watchtowerOverride,
} from "./compose-file.js";
import {
  appServices,
  composeProject,
  type DeviceProject,
  deviceFacts,
  ensureDirs,
} from "./device.js";

export type SetupSettings = Omit<WatchtowerSettings, "services" | "apiAddress" | "dockerSocket"> & {
  token: string;
};

export interface SetupResult {
  /** Files rewritten (none when the device was already set up this way). */
  changed: string[];
  services: string[];
  apiAddress: string;
}

/**
 * Writes Watchtower's compose file and its 0600 token file into the device's project when
 * they differ from what is there, then `up -d`: Compose recreates only what changed, so a
 * second setup with the same inputs touches nothing.
 */
export async function setupDevice(
  remote: Remote,
  project: DeviceProject,
  settings: SetupSettings,
): Promise<SetupResult> {
  const facts = await deviceFacts(remote, project);
  const services = await appServices(remote, project, facts.tool);
  const files = [
    {
      name: WATCHTOWER_FILE,
      mode: 0o644,
      text: watchtowerOverride({
        ...settings,
        services,
        apiAddress: facts.address,
        dockerSocket: facts.dockerSocket,
      }),
    },
    { name: TOKEN_FILE, mode: 0o600, text: tokenEnvFile(settings.token) },
  ];
  await remote.run(ensureDirs(project));
  const changed: string[] = [];
  for (const file of files) {
    const path = `${project.projectDir}/${file.name}`;
    const current = await remote.readFile(path).then(
      (b) => b.toString(),
      () => undefined,
    );
    if (current === file.text) continue;
    await remote.writeFile(path, file.text, file.mode);
    changed.push(file.name);
  }
  await remote.run(up(composeProject(project, facts.tool, { pins: facts.pinned })));
  return { changed, services, apiAddress: facts.address };
}
