/** An annotation a step printed (`::error::`, `::warning title=...::`, `::notice::`). */
export interface Annotation {
  level: "error" | "warning" | "notice";
  message: string;
  title?: string;
}

export interface StepCommands {
  /** Values registered with `::add-mask::`, in order. */
  masked: string[];
  annotations: Annotation[];
}

// The inverse of @actions/core's escaping; %25 last because it was escaped first.
function unescapeData(text: string): string {
  return text.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
}

function unescapeProperty(text: string): string {
  return unescapeData(text.replace(/%3A/g, ":").replace(/%2C/g, ","));
}

const COMMAND = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/;

/** Reads the workflow commands out of a step's log, as the runner recognises them. */
export function parseCommands(log: string): StepCommands {
  const masked: string[] = [];
  const annotations: Annotation[] = [];
  for (const line of log.split(/\r?\n/)) {
    const match = COMMAND.exec(line);
    if (match === null) continue;
    const [, command, properties, data] = match;
    const message = unescapeData(data!);
    if (command === "add-mask") {
      masked.push(message);
    } else if (command === "error" || command === "warning" || command === "notice") {
      const annotation: Annotation = { level: command, message };
      for (const property of (properties ?? "").split(",")) {
        const equals = property.indexOf("=");
        if (equals > 0 && property.slice(0, equals) === "title") {
          annotation.title = unescapeProperty(property.slice(equals + 1));
        }
      }
      annotations.push(annotation);
    }
  }
  return { masked, annotations };
}
