// A device's project follows deploy-compose's rules for names and directories.
export { PROJECT_DIR_RULE, PROJECT_NAME_RULE, projectDirProblem } from "@smoker/deploy";
export {
  API_PORT_IN_CONTAINER,
  LABELS,
  TOKEN_FILE,
  tokenEnvFile,
  WATCHTOWER_FILE,
  WATCHTOWER_SERVICE,
  type WatchtowerSettings,
  watchtowerCommand,
  watchtowerOverride,
} from "./compose-file.js";
export { type DeviceFacts, type DeviceProject, PINS_FILE, parseFacts } from "./device.js";
export { type Device, DeviceListError, devicesFromList, devicesWithTag } from "./devices.js";
export { type DeviceOutcome, type DeviceState, type FleetOptions, runFleet } from "./fleet.js";
export {
  readWatchtowerInputs,
  resolveDevices,
  type WatchtowerInputs,
  watchtowerInputSpec,
} from "./inputs.js";
export { type FleetRun, fleetFailure, fleetOutputs, runWatchtower } from "./run.js";
export { type SetupResult, type SetupSettings, setupDevice } from "./setup.js";
export {
  type DeviceStatus,
  deviceStatus,
  parseManifestDigest,
  type ServiceStatus,
} from "./status.js";
export {
  DeviceUpdateError,
  imageFilter,
  type ServiceChange,
  type Trigger,
  triggerCommand,
  triggerConfig,
  type UpdatePlan,
  type UpdateResult,
  updateDevice,
} from "./update.js";
