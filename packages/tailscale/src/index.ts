export {
  ConfigError,
  cleanPath,
  type DesiredEntry,
  expandTarget,
  FUNNEL_PORTS,
  parseDesired,
} from "./desired.js";
export {
  type FunnelInputs,
  type FunnelSettings,
  type FunnelVerifySettings,
  funnelInputSpec,
  readFunnelInputs,
} from "./inputs.js";
export {
  allowedFunnelPorts,
  checkFunnelAllowed,
  type NodeStatus,
  readNodeStatus,
  readServeConfig,
  runChange,
  TailscaleError,
} from "./node.js";
export {
  commandFor,
  describeCurrent,
  describeStep,
  type Plan,
  planChanges,
  type Step,
  urlOf,
} from "./plan.js";
export { applyFunnelConfig, FunnelVerifyError, verifyPublicUrls } from "./publish.js";
export { type ReconcileResult, type Reporter, reconcile } from "./reconcile.js";
export {
  type CurrentEntry,
  currentEntries,
  parseServeConfig,
  type ServeConfig,
} from "./serve-config.js";
export { describe as describeProbe, type VerifyOptions, verifyUrls } from "./verify.js";
