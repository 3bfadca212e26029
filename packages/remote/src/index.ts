export {
  and,
  cmd,
  inDir,
  isScript,
  or,
  pipe,
  quote,
  redirect,
  render,
  type Script,
  seq,
  UnsafeValueError,
  withEnv,
} from "./command.js";
export {
  CommandTimeoutError,
  ConnectError,
  type ConnectFailure,
  ConnectionLostError,
  HostKeyError,
  RemoteCommandError,
  RemoteError,
} from "./errors.js";
export {
  type ConnectionInputs,
  connectionInputs,
  connectOptionsFrom,
  getConnectionInputs,
} from "./inputs.js";
export {
  fingerprintOf,
  type HostKeyPolicy,
  parseFingerprints,
  parseKnownHosts,
} from "./internal/host-keys.js";
export {
  type ConnectOptions,
  connect,
  DEFAULTS,
  deadPeerBoundMs,
  Remote,
  type RemoteLog,
  type RunOptions,
  type RunResult,
} from "./ssh.js";
