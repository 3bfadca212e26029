export {
  type Check,
  CheckSpecError,
  checksFromUrls,
  type JsonScalar,
  MAX_CHECKS,
  parseChecks,
} from "./checks.js";
export {
  BODY_LIMIT_BYTES,
  DEFAULT_PROBE_TIMEOUT_MS,
  type ProbeOptions,
  type ProbeResult,
  probe,
} from "./probe.js";
export { dispatcherFor, parseCaCertificates, type TlsOptions } from "./tls.js";
export {
  type Attempt,
  type CheckReport,
  type HealthReport,
  WAIT_DEFAULTS,
  type WaitOptions,
  waitUntilHealthy,
} from "./wait.js";
