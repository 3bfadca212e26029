export { type RunIdentity, runIdentity } from "./context.js";
export {
  ActionError,
  type ActionErrorOptions,
  InputError,
  type InputErrorOptions,
} from "./errors.js";
export {
  type BooleanOptions,
  type DurationOptions,
  type EnumOptions,
  getInputs,
  type InputDef,
  type InputSource,
  type InputSpec,
  type Inputs,
  type IntegerOptions,
  input,
  type KeyValuesOptions,
  type ListOptions,
  type StringOptions,
} from "./inputs.js";
export { debug, info, type PhaseTiming, phase, timings, warn } from "./log.js";
export { run, type StepFunction } from "./run.js";
export { maskDerived } from "./secrets.js";
