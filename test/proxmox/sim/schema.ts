// The PVE API schema (test/fixtures/proxmox/pve-api-subset.json, PVE 9.1, test data only) and a
// validator that follows the rules of pve-common src/PVE/JSONSchema.pm (check_prop, check_type,
// check_object, parse_property_string): the same order of checks and the same messages, so a
// request the real server rejects is rejected here with the same `errors` entry.
import { readFileSync } from "node:fs";
import { checkNamedFormat, FormatError, namedPropertyFormat } from "./formats.js";

export interface PropSchema {
  type?: string;
  format?: string | Record<string, PropSchema>;
  optional?: number | boolean;
  enum?: string[];
  pattern?: string;
  minimum?: number | string;
  maximum?: number | string;
  maxLength?: number;
  minLength?: number;
  default_key?: number | boolean;
  alias?: string;
  keyAlias?: string;
  items?: PropSchema;
  properties?: Record<string, PropSchema>;
  additionalProperties?: number | boolean | PropSchema;
  requires?: string;
}

export type PermCheck = (string | string[] | PermCheck)[];

export interface MethodSchema {
  method: string;
  name: string;
  allowtoken?: number;
  protected?: number;
  parameters: { additionalProperties?: number; properties?: Record<string, PropSchema> };
  permissions?: { check?: PermCheck; user?: string; description?: string };
  returns?: PropSchema;
}

const SUBSET_URL = new URL("../../fixtures/proxmox/pve-api-subset.json", import.meta.url);

let loaded: Record<string, Record<string, MethodSchema>> | undefined;

/** paths[<path with {params}>][<METHOD>], as in the schema. */
export function apiPaths(): Record<string, Record<string, MethodSchema>> {
  loaded ??= (JSON.parse(readFileSync(SUBSET_URL, "utf8")) as { paths: typeof loaded }).paths!;
  return loaded;
}

export interface RouteMatch {
  template: string;
  schema: MethodSchema;
  pathParams: Record<string, string>;
}

/**
 * Find the handler for a (uri-unescaped) path below /api2/json. Literal segments win over
 * {param} segments, as in PVE::RESTHandler::find_handler. Returns "no-path" or "no-method" when
 * nothing matches (the server answers 501 for both).
 */
export function matchRoute(method: string, path: string): RouteMatch | "none" {
  const segs = path.split("/").filter((s) => s !== "");
  let best: { template: string; params: Record<string, string>; literal: number } | undefined;
  for (const template of Object.keys(apiPaths())) {
    const tsegs = template.split("/").filter((s) => s !== "");
    if (tsegs.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let literal = 0;
    let ok = true;
    for (let i = 0; i < tsegs.length; i++) {
      const t = tsegs[i]!;
      const m = /^\{(.+)\}$/.exec(t);
      if (m) params[m[1]!] = segs[i]!;
      else if (t === segs[i]) literal++;
      else {
        ok = false;
        break;
      }
    }
    if (ok && (!best || literal > best.literal)) best = { template, params, literal };
  }
  if (!best) return "none";
  const schema = apiPaths()[best.template]![method];
  if (!schema) return "none";
  return { template: best.template, schema, pathParams: best.params };
}

/** How many indexed keys (net0..net31) PVE registers for a `name[n]` schema entry. */
const INDEX_LIMITS: Record<string, number> = {
  net: 32,
  ipconfig: 32,
  scsi: 31,
  ide: 4,
  sata: 6,
  virtio: 16,
  unused: 256,
  mp: 256,
  dev: 256,
  numa: 8,
  hostpci: 16,
  usb: 14,
  serial: 4,
  parallel: 3,
  virtiofs: 10,
};

/** The schema entry for a parameter name, resolving net0 -> net[n] within its index range. */
export function propertyFor(
  props: Record<string, PropSchema>,
  key: string,
): PropSchema | undefined {
  if (Object.hasOwn(props, key)) return props[key];
  const m = /^([a-z]+)(\d+)$/.exec(key);
  if (!m) return undefined;
  const indexed = props[`${m[1]}[n]`];
  if (!indexed) return undefined;
  const index = Number(m[2]);
  if (String(index) !== m[2]) return undefined;
  if (index >= (INDEX_LIMITS[m[1]!] ?? 32)) return undefined;
  return indexed;
}

export type Errors = Record<string, string>;

function addError(errors: Errors, path: string, msg: string): void {
  const p = path || "_root";
  errors[p] = errors[p] ? `${errors[p]}\\n${msg}` : msg;
}

/** A value as the server sees it: a form string, or a JSON scalar. */
export type ParamValue = string | number | boolean | null | object;

const isNumber = (v: string) => /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(v);
const isInteger = (v: string) => /^[+-]?\d+$/.test(v);

/** Perl patterns in the schema ("(?^:...)") rewritten for JavaScript. */
function perlRegex(pattern: string): RegExp {
  const js = pattern.replace(/\(\?\^([a-z]*):/g, "(?:");
  return new RegExp(`^(?:${js})$`);
}

/** check_type: returns false (and records the error) when the value has the wrong type. */
function checkType(path: string, type: string | undefined, value: ParamValue, errors: Errors) {
  if (!type || type === "any") return true;
  if (type === "array") {
    if (!Array.isArray(value)) {
      addError(errors, path, `type check ('${type}') failed`);
      return false;
    }
    return true;
  }
  if (type === "object") {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      addError(errors, path, `type check ('${type}') failed`);
      return false;
    }
    return true;
  }
  if (typeof value === "object" && value !== null) {
    addError(
      errors,
      path,
      `type check ('${type}') failed - got ${Array.isArray(value) ? "ARRAY" : "HASH"}`,
    );
    return false;
  }
  if (typeof value === "boolean") {
    // JSON true/false decode to JSON::PP::Boolean objects: only a boolean property takes them.
    if (type === "boolean") return true;
    addError(errors, path, `type check ('${type}') failed - got JSON::PP::Boolean`);
    return false;
  }
  const s = String(value);
  if (type === "boolean" && s !== "1" && s !== "0") {
    addError(errors, path, `type check ('boolean') failed - got '${s}'`);
    return false;
  }
  if (type === "integer" && !isInteger(s)) {
    addError(errors, path, `type check ('integer') failed - got '${s}'`);
    return false;
  }
  if (type === "number" && !isNumber(s)) {
    addError(errors, path, `type check ('number') failed - got '${s}'`);
    return false;
  }
  return true;
}

/** check_prop for one value. */
export function checkProp(
  value: ParamValue | undefined,
  schema: PropSchema,
  path: string,
  errors: Errors,
): void {
  if (value === undefined || value === null) {
    if (!schema.optional && !schema.alias) {
      addError(errors, path, "property is missing and it is not optional");
    }
    return;
  }
  if (!checkType(path, schema.type, value, errors)) return;
  if (typeof value === "object") {
    if (Array.isArray(value) && schema.items) {
      value.forEach((el, i) => {
        checkProp(el as ParamValue, schema.items!, `${path}[${i}]`, errors);
      });
    }
    return;
  }
  const s = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
  if (schema.format) {
    try {
      checkFormat(schema.format, s, path);
    } catch (e) {
      addError(errors, path, `invalid format - ${formatErrorText(e)}`);
      return;
    }
  }
  if (schema.pattern && !perlRegex(schema.pattern).test(s)) {
    addError(errors, path, "value does not match the regex pattern");
    return;
  }
  if (schema.maxLength !== undefined && s.length > schema.maxLength) {
    addError(errors, path, `value may only be ${schema.maxLength} characters long`);
    return;
  }
  if (schema.minLength !== undefined && s.length < schema.minLength) {
    addError(errors, path, `value must be at least ${schema.minLength} characters long`);
    return;
  }
  if (isNumber(s)) {
    if (schema.maximum !== undefined && Number(s) > Number(schema.maximum)) {
      addError(errors, path, `value must have a maximum value of ${schema.maximum}`);
      return;
    }
    if (schema.minimum !== undefined && Number(s) < Number(schema.minimum)) {
      addError(errors, path, `value must have a minimum value of ${schema.minimum}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(s)) {
    addError(
      errors,
      path,
      `value '${s}' does not have a value in the enumeration '${schema.enum.join(", ")}'`,
    );
  }
}

// PVE::Exception stringifies as "<msg>\n" followed by one "<path>: <reason>" line per error.
function formatErrorText(e: unknown): string {
  if (e instanceof FormatError) {
    let text = e.message;
    for (const [k, v] of Object.entries(e.errors ?? {})) text += `${k}: ${v.replace(/\n$/, "")}\n`;
    return text;
  }
  throw e;
}

/** check_format: a named format, a "<name>-list"/"-opt" format, or a property-string hash. */
export function checkFormat(format: PropSchema["format"], value: string, path: string): unknown {
  if (format === undefined) return value;
  if (typeof format === "object") return parsePropertyString(format, value, path);
  const named = namedPropertyFormat(format);
  if (named) return parsePropertyString(named, value, path);
  return checkNamedFormat(format, value);
}

/** parse_property_string: "k=v,k2=v2" with default keys and aliases, then check_object. */
export function parsePropertyString(
  format: Record<string, PropSchema>,
  data: string,
  path: string,
): Record<string, string> {
  const res: Record<string, string> = {};
  let defaultKey: string | undefined;
  for (const part of data.split(",")) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=(.+)$/s.exec(part);
    if (kv) {
      let k = kv[1]!;
      let v = kv[2]!;
      if (res[k] !== undefined) {
        throw new FormatError(`duplicate key in comma-separated list property: ${k}\n`);
      }
      let schema = format[k];
      if (schema?.alias) {
        if (schema.keyAlias) {
          if (res[schema.keyAlias] !== undefined) {
            throw new FormatError(`key alias '${schema.keyAlias}' is already defined\n`);
          }
          res[schema.keyAlias] = k;
        }
        k = schema.alias;
        schema = format[k];
      }
      if (!schema) throw new FormatError(`invalid key in comma-separated list property: ${k}\n`);
      if (schema.type === "boolean") {
        if (/^(1|on|yes|true)$/i.test(v)) v = "1";
        else if (/^(0|off|no|false)$/i.test(v)) v = "0";
      }
      res[k] = v;
    } else if (!part.includes("=")) {
      if (defaultKey) {
        throw new FormatError(`duplicate key in comma-separated list property: ${defaultKey}\n`);
      }
      for (const [key, s] of Object.entries(format)) {
        if (s.default_key) {
          defaultKey = key;
          if (res[key]) {
            throw new FormatError(`duplicate key in comma-separated list property: ${key}\n`);
          }
          res[key] = part;
          break;
        }
      }
      if (!defaultKey) {
        throw new FormatError("value without key, but schema does not define a default key\n");
      }
    } else {
      throw new FormatError("missing key in comma-separated list property\n");
    }
  }
  const errors: Errors = {};
  checkObject(path, format, res, false, errors);
  if (Object.keys(errors).length > 0) throw new FormatError("format error\n", errors);
  return res;
}

/** check_object: every schema key checked, keys the schema does not know rejected. */
export function checkObject(
  path: string,
  props: Record<string, PropSchema>,
  value: Record<string, ParamValue>,
  additional: boolean,
  errors: Errors,
): void {
  for (const [k, s] of Object.entries(props)) {
    if (k.endsWith("[n]")) continue;
    checkProp(value[k], s, path ? `${path}.${k}` : k, errors);
  }
  for (const k of Object.keys(value)) {
    const newPath = path ? `${path}.${k}` : k;
    const s = Object.hasOwn(props, k) ? props[k] : propertyFor(props, k);
    if (s) {
      if (!Object.hasOwn(props, k)) checkProp(value[k], s, newPath, errors);
      if (s.requires && value[s.requires] === undefined) {
        addError(
          errors,
          path ? `${path}.${s.requires}` : s.requires,
          `missing property - '${newPath}' requires this property`,
        );
      }
      continue;
    }
    if (!additional) {
      addError(
        errors,
        newPath,
        "property is not defined in schema and the schema does not allow additional properties",
      );
    }
  }
}

/** Validate a request's parameters against a method's schema; {} when they pass. */
export function validateParams(schema: MethodSchema, params: Record<string, ParamValue>): Errors {
  const errors: Errors = {};
  checkObject(
    "",
    schema.parameters.properties ?? {},
    params,
    Boolean(schema.parameters.additionalProperties),
    errors,
  );
  return errors;
}
