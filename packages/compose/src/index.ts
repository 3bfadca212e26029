export {
  type CommandRunner,
  type ComposeProject,
  type ComposeTool,
  compose,
  configServices,
  type DownOptions,
  down,
  ps,
  pull,
  type StopOptions,
  stop,
  type UpOptions,
  up,
} from "./commands.js";
export {
  type ContainerState,
  type ContainerStatus,
  captureRunning,
  describeRunning,
  digestFor,
  type HealthStatus,
  type ImageDigests,
  imageDigests,
  inspectContainers,
  listProjectContainers,
  parseContainers,
  parseImages,
  type RunningService,
  repositoryOf,
} from "./containers.js";
export { type DetectOptions, detectCommand, detectCompose, parseDetection } from "./detect.js";
export { ComposeError, UnhealthyError, type UnhealthyReason } from "./errors.js";
export { pinnedOverride, type ServicePin } from "./pin.js";
export { recreateStale, staleServices } from "./stale.js";
export {
  type Baseline,
  baselineOf,
  containerLogs,
  type Failure,
  isReady,
  type JudgeOptions,
  judge,
  observe,
  type Snapshot,
  type Verdict,
  type WatchOptions,
  type WatchResult,
  watchProject,
} from "./watch.js";
