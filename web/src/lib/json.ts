// Strict JSON parsing and RFC 8785 bytes, as docs/hashing.md §1.1 says: values JSON cannot
// carry exactly (repeated keys, unsafe integers, non-finite numbers, lone surrogates, the
// NaN/Infinity literals) are refused, never changed. JSON.parse would silently keep the last
// repeated key and round big integers, so the page parses with its own scanner and hands the
// checked value to `canonicalize` (RFC 8785) for the bytes.
import canonicalize from "canonicalize";

export class DatapointError extends Error {}

export const MAX_NESTING = 512; // python/modelmint/hashing/canonical.py MAX_NESTING
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const encoder = new TextEncoder();

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function parseStrict(text: string): Json {
  let i = 0;
  let depth = 0;
  const fail = (what: string): never => {
    throw new DatapointError(`invalid JSON: ${what} at column ${i + 1}`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        break;
      }
      if (c < 0x20) fail("control character in string");
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = text.charCodeAt(i + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          i += 2;
          continue;
        }
        throw new DatapointError("value cannot be canonicalised as JSON (a string is not valid Unicode)");
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === "u") {
        const hex = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
      } else fail("bad escape");
      start = i;
    }
    // Lone surrogates written as escapes (\ud800) are only visible after unescaping.
    if (!out.isWellFormed()) throw new DatapointError("value cannot be canonicalised as JSON (a string is not valid Unicode)");
    return out;
  };
  const num = (): number => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 4400));
    if (!m || m[0] === "-") fail("bad number");
    const literal = m![0];
    i += literal.length;
    const value = Number(literal);
    if (!Number.isFinite(value)) throw new DatapointError(`number ${literal} is not finite`);
    if (m![2] === undefined && m![3] === undefined && Math.abs(value) > MAX_SAFE)
      throw new DatapointError(`integer ${literal} is outside the JSON safe range ±(2^53 − 1)`);
    return value;
  };
  const value = (): Json => {
    ws();
    const c = text[i];
    if (c === "{") {
      if (++depth > MAX_NESTING) throw new DatapointError(`JSON is nested too deeply to parse (more than ${MAX_NESTING} levels)`);
      i++;
      const obj: { [key: string]: Json } = Object.create(null);
      const seen = new Set<string>();
      ws();
      if (text[i] === "}") i++;
      else
        for (;;) {
          ws();
          if (text[i] !== '"') fail("expected a key");
          const key = str();
          if (seen.has(key)) throw new DatapointError(`JSON object repeats the key ${JSON.stringify(key)}`);
          seen.add(key);
          ws();
          if (text[i] !== ":") fail("expected ':'");
          i++;
          Object.defineProperty(obj, key, { value: value(), enumerable: true, writable: true, configurable: true });
          ws();
          if (text[i] === ",") i++;
          else if (text[i] === "}") {
            i++;
            break;
          } else fail("expected ',' or '}'");
        }
      depth--;
      return obj;
    }
    if (c === "[") {
      if (++depth > MAX_NESTING) throw new DatapointError(`JSON is nested too deeply to parse (more than ${MAX_NESTING} levels)`);
      i++;
      const arr: Json[] = [];
      ws();
      if (text[i] === "]") i++;
      else
        for (;;) {
          arr.push(value());
          ws();
          if (text[i] === ",") i++;
          else if (text[i] === "]") {
            i++;
            break;
          } else fail("expected ',' or ']'");
        }
      depth--;
      return arr;
    }
    if (c === '"') return str();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return num();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const)
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    for (const word of ["NaN", "Infinity", "-Infinity"])
      if (text.startsWith(word, i)) throw new DatapointError(`invalid JSON: ${word} is not a JSON number`);
    return fail(i >= text.length ? "expecting value" : "unexpected character");
  };
  const result = value();
  ws();
  if (i !== text.length) fail("extra data");
  return result;
}

/** The RFC 8785 UTF-8 bytes of a checked JSON value. */
export function canonicalBytes(value: Json): Uint8Array {
  return encoder.encode(canonicalize(value) as string);
}

export function canonicalText(text: string): Uint8Array {
  return canonicalBytes(parseStrict(text));
}
