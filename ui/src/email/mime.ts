// A small MIME reader for the outbox viewer: splits an RFC 5322 message into
// headers and body, walks multipart/* parts by their boundary, undoes
// quoted-printable and base64 transfer encodings, decodes RFC 2047 encoded
// words in headers, and picks out the HTML and plain-text parts. It reads
// what Kairos composes (multipart/alternative); it is not a general parser.

export interface Header {
  name: string;
  value: string;
}

export interface MimePart {
  headers: Header[];
  contentType: string;
  params: Record<string, string>;
  /** The decoded body of a leaf part; "" for a multipart. */
  body: string;
  parts: MimePart[];
}

export interface ParsedMessage {
  headers: Header[];
  html: string | null;
  text: string | null;
  root: MimePart;
}

/** The first header named `name` (case-insensitive), or null. */
export function header(headers: Header[], name: string): string | null {
  const n = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === n)?.value ?? null;
}

/** Split at the first empty line; headers unfolded and decoded. */
function splitHead(raw: string): { headers: Header[]; body: string } {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : "";
  const headers: Header[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1].value += " " + line.trim();
    } else {
      const i = line.indexOf(":");
      if (i > 0) headers.push({ name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() });
    }
  }
  for (const h of headers) h.value = decodeWords(h.value);
  return { headers, body };
}

/** `text/html; charset=utf-8; boundary="x"` → type and parameters. */
export function parseContentType(value: string | null): { type: string; params: Record<string, string> } {
  if (!value) return { type: "text/plain", params: { charset: "us-ascii" } };
  const [type, ...rest] = value.split(";");
  const params: Record<string, string> = {};
  for (const p of rest) {
    const i = p.indexOf("=");
    if (i < 0) continue;
    let v = p.slice(i + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    params[p.slice(0, i).trim().toLowerCase()] = v;
  }
  return { type: type.trim().toLowerCase(), params };
}

function bytesToString(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset || "utf-8").decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

/** Characters of a raw string (each a byte, or wider for 8-bit text) to bytes. */
function rawBytes(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else out.push(...new TextEncoder().encode(ch));
  }
  return out;
}

/** Undo quoted-printable (RFC 2045 §6.7); `underscores` for RFC 2047's Q. */
export function decodeQuotedPrintable(s: string, charset = "utf-8", underscores = false): string {
  const out: number[] = [];
  const src = underscores ? s : s.replace(/=\r?\n/g, "");
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (ch === "=" && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 1, i + 3))) {
      out.push(parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (underscores && ch === "_") {
      out.push(0x20);
    } else {
      out.push(...rawBytes(ch));
    }
  }
  return bytesToString(new Uint8Array(out), charset);
}

export function decodeBase64(s: string, charset = "utf-8"): string {
  const clean = s.replace(/[^A-Za-z0-9+/=]/g, "");
  const bin = atob(clean);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytesToString(bytes, charset);
}

/** RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) in a header value. */
export function decodeWords(value: string): string {
  // Whitespace between two encoded words is not part of the text.
  return value
    .replace(/(\?=)\s+(=\?)/g, "$1$2")
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) => {
      const cs = charset.split("*")[0];
      return enc.toLowerCase() === "b" ? decodeBase64(text, cs) : decodeQuotedPrintable(text, cs, true);
    });
}

function parsePart(raw: string): MimePart {
  const { headers, body } = splitHead(raw);
  const { type, params } = parseContentType(header(headers, "Content-Type"));
  if (type.startsWith("multipart/") && params.boundary) {
    return { headers, contentType: type, params, body: "", parts: splitMultipart(body, params.boundary).map(parsePart) };
  }
  const cte = (header(headers, "Content-Transfer-Encoding") ?? "7bit").toLowerCase();
  const charset = params.charset ?? "utf-8";
  let decoded = body;
  if (cte === "quoted-printable") decoded = decodeQuotedPrintable(body, charset);
  else if (cte === "base64") decoded = decodeBase64(body, charset);
  return { headers, contentType: type, params, body: decoded, parts: [] };
}

/** The parts between `--boundary` lines, up to `--boundary--`. */
function splitMultipart(body: string, boundary: string): string[] {
  const lines = body.split(/\r?\n/);
  const parts: string[] = [];
  let current: string[] | null = null;
  for (const line of lines) {
    const t = line.trimEnd();
    if (t === `--${boundary}--`) {
      if (current) parts.push(current.join("\r\n"));
      current = null;
      break;
    }
    if (t === `--${boundary}`) {
      if (current) parts.push(current.join("\r\n"));
      current = [];
      continue;
    }
    if (current) current.push(line);
  }
  if (current) parts.push(current.join("\r\n"));
  return parts;
}

function firstOfType(p: MimePart, type: string): MimePart | null {
  if (p.parts.length === 0) return p.contentType === type ? p : null;
  for (const c of p.parts) {
    const f = firstOfType(c, type);
    if (f) return f;
  }
  return null;
}

/** Parse a whole message: its headers, and its HTML and text parts if any. */
export function parseMessage(raw: string): ParsedMessage {
  const root = parsePart(raw);
  return {
    headers: root.headers,
    html: firstOfType(root, "text/html")?.body ?? null,
    text: firstOfType(root, "text/plain")?.body ?? null,
    root,
  };
}

/**
 * The HTML of a captured message made safe to look at: without Kairos's open
 * pixel (`/t/o/…`), so viewing it in the outbox is not counted as an open,
 * and with links aimed at a new window, which the sandbox refuses, so a stray
 * click is not counted as a click either.
 */
export function forViewing(html: string): string {
  const noPixel = html.replace(/<img\b[^>]*\bsrc="[^"]*\/t\/o\/[^"]*"[^>]*>/gi, "");
  const base = '<base target="_blank">';
  if (/<head\b[^>]*>/i.test(noPixel)) return noPixel.replace(/<head\b[^>]*>/i, (h) => h + base);
  return base + noPixel;
}
