export {
  apiPath,
  type ClientOptions,
  type Envelope,
  isTransient,
  type Method,
  ProxmoxClient,
} from "./client.js";
export {
  decodeSshKeys,
  encodeSshKeys,
  formEncode,
  normaliseTags,
  type Params,
  type ParamValue,
} from "./encode.js";
export {
  FingerprintMismatchError,
  ProxmoxApiError,
  ProxmoxConnectionError,
  ProxmoxTaskError,
  SpecError,
} from "./errors.js";
export {
  type ApplyHooks,
  applyGuest,
  type Change,
  type ChangeAction,
  cloneParams,
  configDrift,
  type GuestPlan,
  guestStatus,
  listGuests,
  lxcCreateParams,
  type NodeGuest,
  type NodePlan,
  planGuests,
} from "./guests.js";
export {
  MODES,
  type Mode,
  type ProvisionInputs,
  type ProvisionSettings,
  provisionInputSpec,
  type ReadProvisionOptions,
  readProvisionInputs,
} from "./inputs.js";
export {
  type BackupOutput,
  type GuestOutput,
  type ProvisionReporter,
  type ProvisionResult,
  provision,
} from "./provision.js";
export { CHANGE_HEADER, changeRows, planSummary, textTable, unmanagedLine } from "./report.js";
export {
  backupGuest,
  type GuestRef,
  listSnapshots,
  newestOwnSnapshot,
  rollbackSnapshot,
  SNAPSHOT_PREFIX,
  type Snapshot,
  snapshotName,
  takeSnapshot,
} from "./snapshots.js";
export {
  type GuestNetwork,
  type GuestSpec,
  type GuestsSpec,
  type GuestType,
  parseGuestsSpec,
} from "./spec.js";
export {
  parseUpid,
  type TaskResult,
  taskSucceeded,
  type WaitOptions,
  waitForTask,
} from "./tasks.js";
export { dispatcherFor, parseFingerprint, parsePemCertificates, type TlsTrust } from "./tls.js";
export { type ReadyOptions, tcpAnswers, waitUntilReachable } from "./wait.js";
