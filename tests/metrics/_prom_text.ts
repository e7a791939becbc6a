/**
 * A strict parser for the Prometheus text exposition format (0.0.4), for tests: it throws on
 * anything a Prometheus server would reject, and checks histogram consistency.
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family: its TYPE, HELP and samples. */
export interface Family {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** Parses an exposition; throws an Error naming the line on the first problem. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  const lines = text.split("\n");
  if (text !== "" && lines.at(-1) !== "") throw new Error("exposition must end with a newline");
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!meta) return; // a plain comment
      const [, kind, name = "", rest = ""] = meta;
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name, ${where}`);
      let family = families.get(name);
      if (family && family !== current) throw new Error(`family ${name} is split, ${where}`);
      if (!family) {
        family = { name, type: "untyped", samples: [] };
        families.set(name, family);
        current = family;
      }
      if (kind === "HELP") {
        if (family.help !== undefined) throw new Error(`second HELP, ${where}`);
        family.help = rest;
      } else {
        if (!TYPES.has(rest)) throw new Error(`unknown type, ${where}`);
        if (family.samples.length > 0) throw new Error(`TYPE after samples, ${where}`);
        family.type = rest as Family["type"];
      }
      return;
    }
    const sample = parseSample(line, where);
    if (!current || !belongsTo(sample.name, current)) {
      throw new Error(`sample outside its family (missing TYPE?), ${where}`);
    }
    current.samples.push(sample);
  });
  for (const family of families.values()) {
    if (family.type === "histogram") checkHistogram(family);
  }
  return families;
}

/** The value of the sample with this name and exactly these labels, if present. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) {
        return s.value;
      }
    }
  }
  return undefined;
}

function belongsTo(sampleName: string, family: Family): boolean {
  if (sampleName === family.name) return family.type !== "histogram";
  if (family.type === "histogram") {
    return ["_bucket", "_sum", "_count"].some((s) => sampleName === family.name + s);
  }
  if (family.type === "summary") {
    return ["_sum", "_count"].some((s) => sampleName === family.name + s);
  }
  return false;
}

function parseSample(line: string, where: string): Sample {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!head) throw new Error(`bad sample name, ${where}`);
  const name = head[1] ?? "";
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === "{") {
    pos++;
    while (line[pos] !== "}") {
      const labelMatch = /^([^=]+)="/.exec(line.slice(pos));
      if (!labelMatch) throw new Error(`bad label, ${where}`);
      const labelName = labelMatch[1] ?? "";
      if (!LABEL_NAME.test(labelName)) throw new Error(`bad label name, ${where}`);
      if (labelName in labels) throw new Error(`duplicate label, ${where}`);
      pos += labelMatch[0].length;
      let value = "";
      for (;;) {
        const c = line[pos];
        if (c === undefined) throw new Error(`unterminated label value, ${where}`);
        pos++;
        if (c === '"') break;
        if (c === "\\") {
          const escaped = line[pos++];
          if (escaped === "n") value += "\n";
          else if (escaped === "\\" || escaped === '"') value += escaped;
          else throw new Error(`bad escape, ${where}`);
        } else {
          value += c;
        }
      }
      labels[labelName] = value;
      if (line[pos] === ",") pos++;
      else if (line[pos] !== "}") throw new Error(`expected , or }, ${where}`);
    }
    pos++;
  }
  const rest = /^ (\S+)( -?\d+)?$/.exec(line.slice(pos));
  if (!rest) throw new Error(`bad value part, ${where}`);
  const value = parseValue(rest[1] ?? "", where);
  return { name, labels, value };
}

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new Error(`bad value, ${where}`);
  }
  return Number(text);
}

function checkHistogram(family: Family): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      entry.buckets.push([parseValue(le, `le of ${family.name}`), s.value]);
    } else if (le !== undefined) {
      throw new Error(`${family.name}: le on a non-bucket sample`);
    } else if (s.name.endsWith("_sum")) {
      entry.sum = s.value;
    } else {
      entry.count = s.value;
    }
  }
  for (const [key, { buckets, sum, count }] of series) {
    const where = `${family.name}${key}`;
    if (sum === undefined || count === undefined) throw new Error(`${where}: missing _sum/_count`);
    if (buckets.length === 0 || buckets.at(-1)?.[0] !== Infinity) {
      throw new Error(`${where}: last bucket must be le="+Inf"`);
    }
    for (let i = 1; i < buckets.length; i++) {
      const [prevLe = 0, prevCount = 0] = buckets[i - 1] ?? [];
      const [le = 0, bucketCount = 0] = buckets[i] ?? [];
      if (le <= prevLe) throw new Error(`${where}: bucket bounds not increasing`);
      if (bucketCount < prevCount) throw new Error(`${where}: bucket counts not cumulative`);
    }
    if (buckets.at(-1)?.[1] !== count) throw new Error(`${where}: +Inf bucket differs from _count`);
  }
}
