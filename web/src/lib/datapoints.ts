// Datapoints of the files a user drops, by the rules of docs/hashing.md §1.2 (JSONL), §1.3
// (CSV) and §1.5 (folder: a file's bytes). Each comes with the label modelmint's CLI uses
// in messages (`line N`, `row N`, a path), so the page and the CLI name a datapoint alike.
import { canonicalBytes, canonicalText, DatapointError } from "./json";

export interface Datapoint {
  label: string;
  bytes: Uint8Array;
}

const utf8 = new TextDecoder("utf-8", { fatal: true }); // drops a BOM at the very start only

export function decodeUtf8(name: string, data: Uint8Array): string {
  try {
    return utf8.decode(data);
  } catch {
    throw new DatapointError(`${name}: not valid UTF-8; re-encode the file as UTF-8`);
  }
}

const blank = /^[ \t\r\n]*$/;

/** §1.2: one JSON value per non-blank line; labels count physical lines from 1. */
export function jsonlDatapoints(name: string, text: string): Datapoint[] {
  const out: Datapoint[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (blank.test(line)) continue;
    try {
      out.push({ label: `line ${n + 1}`, bytes: canonicalText(line) });
    } catch (e) {
      if (e instanceof DatapointError) throw new DatapointError(`${name} line ${n + 1}: ${e.message}; fix that line`);
      throw e;
    }
  }
  return out;
}

/** RFC 4180 records as Python's csv.reader(strict=True) reads them; an empty line gives []. */
export function csvRecords(name: string, text: string): { fields: string[]; line: number }[] {
  const records: { fields: string[]; line: number }[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    // An empty line (nothing before its ending) is skipped.
    if (text[i] === "\n" || (text[i] === "\r" && text[i + 1] === "\n")) {
      i += text[i] === "\r" ? 2 : 1;
      line++;
      continue;
    }
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new DatapointError(`${name} line ${line}: malformed CSV (unexpected end of data); fix the quoting on that line`);
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          field += c;
          i++;
        }
        const after = text[i];
        if (!(after === undefined || after === "," || after === "\n" || (after === "\r" && text[i + 1] === "\n")))
          throw new DatapointError(`${name} line ${line}: malformed CSV (',' expected after '"'); fix the quoting on that line`);
      } else {
        const start = i;
        while (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") i++;
        if (text[i] === "\r" && text[i + 1] !== "\n")
          throw new DatapointError(`${name} line ${line}: malformed CSV (new-line character seen in unquoted field); fix that line`);
        field = text.slice(start, i);
      }
      fields.push(field);
      if (text[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === "\r") i++;
    if (text[i] === "\n") {
      i++;
      line++;
    }
    records.push({ fields, line: startLine });
  }
  return records;
}

/** §1.3: the header's names, then each record as the canonical object of strings. */
export function csvDatapoints(name: string, text: string): Datapoint[] {
  const records = csvRecords(name, text);
  if (records.length === 0) throw new DatapointError(`${name} has no header row; put the column names on the first line`);
  const header = records[0].fields;
  const seen = new Set<string>();
  for (const h of header) {
    if (h === "") throw new DatapointError(`${name}: the header has an empty column name; name every column`);
    if (seen.has(h)) throw new DatapointError(`${name}: the header repeats the column ${JSON.stringify(h)}; name every column once`);
    seen.add(h);
  }
  return records.slice(1).map((record, k) => {
    if (record.fields.length !== header.length)
      throw new DatapointError(
        `${name} row ${k + 1} (line ${record.line}) has ${record.fields.length} fields but the header has ${header.length}; give every row one field per header column`,
      );
    const obj: Record<string, string> = Object.create(null);
    header.forEach((h, j) => Object.defineProperty(obj, h, { value: record.fields[j], enumerable: true }));
    return { label: `row ${k + 1}`, bytes: canonicalBytes(obj) };
  });
}

export type Format = "jsonl" | "csv" | "file";

const unreadable: Record<string, string> = {
  parquet: "Parquet",
  arrow: "an Arrow (Hugging Face datasets) file",
};

/** How a dropped file is read against a dataset of `datasetFormat` (docs/hashing.md §1.8). */
export function formatOf(name: string, datasetFormat: string): Format {
  const ext = name.toLowerCase().split(".").pop() ?? "";
  if (datasetFormat === "folder") return "file";
  if (ext in unreadable)
    throw new DatapointError(
      `${name}: the page cannot read ${unreadable[ext]}; run \`modelmint dataset verify ${name} --token ID\` or \`modelmint dataset prove\` and drop its proof file here`,
    );
  if (ext === "jsonl" || ext === "json" || ext === "ndjson") return "jsonl";
  if (ext === "csv") return "csv";
  if (datasetFormat === "csv") return "csv";
  if (datasetFormat === "parquet" || datasetFormat === "hf-datasets") return "jsonl";
  return "jsonl";
}

export function datapointsOf(name: string, data: Uint8Array, format: Format): Datapoint[] {
  if (format === "file") return [{ label: name, bytes: data }];
  const text = decodeUtf8(name, data);
  return format === "csv" ? csvDatapoints(name, text) : jsonlDatapoints(name, text);
}
