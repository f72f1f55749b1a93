// Unit tests of the outbox viewer's MIME reader: headers (folded, encoded
// words), multipart/alternative with quoted-printable and base64 parts,
// non-ASCII text, and a single-part message.
import { expect, test } from "vitest";
import { decodeQuotedPrintable, decodeWords, forViewing, header, parseMessage } from "../../src/email/mime";

const b64 = (s: string) => Buffer.from(s, "utf-8").toString("base64");

const message = [
  "From: Kairos Demo Shop <hello@kairos-demo.example>",
  "To: ada@example.com",
  "Subject: =?utf-8?b?" + b64("Willkommen, Jürgen") + "?=",
  "DKIM-Signature: v=1; a=ed25519-sha256; d=kairos-demo.example;",
  "\ts=demo; b=abc",
  "MIME-Version: 1.0",
  'Content-Type: multipart/alternative; boundary="XyZ"',
  "",
  "--XyZ",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Hi J=C3=BCrgen, this line is long enough to be wrapped by a soft line bre=",
  "ak here.",
  "--XyZ",
  "Content-Type: text/html; charset=utf-8",
  "Content-Transfer-Encoding: base64",
  "",
  b64('<p style="color:red">Hi Jürgen</p>').replace(/(.{20})/g, "$1\r\n"),
  "--XyZ--",
  "",
].join("\r\n");

test("headers are unfolded and encoded words decoded", () => {
  const m = parseMessage(message);
  expect(header(m.headers, "subject")).toBe("Willkommen, Jürgen");
  expect(header(m.headers, "DKIM-Signature")).toBe("v=1; a=ed25519-sha256; d=kairos-demo.example; s=demo; b=abc");
  expect(header(m.headers, "X-Missing")).toBe(null);
});

test("multipart/alternative yields the decoded text and HTML parts", () => {
  const m = parseMessage(message);
  expect(m.text).toBe("Hi Jürgen, this line is long enough to be wrapped by a soft line break here.");
  expect(m.html).toBe('<p style="color:red">Hi Jürgen</p>');
  expect(m.root.contentType).toBe("multipart/alternative");
  expect(m.root.parts.length).toBe(2);
});

test("quoted-printable keeps literal '=' only when escaped, and Q-encoding turns _ into spaces", () => {
  expect(decodeQuotedPrintable("a=3Db =E2=82=AC")).toBe("a=b €");
  expect(decodeWords("=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus?= =?UTF-8?Q?_Berlin?=")).toBe("Grüße aus Berlin");
  expect(decodeWords("plain words")).toBe("plain words");
});

test("a single-part HTML message with LF line ends", () => {
  const m = parseMessage("Subject: Hello\nContent-Type: text/html; charset=utf-8\n\n<b>Hello</b>\n");
  expect(m.html).toBe("<b>Hello</b>\n");
  expect(m.text).toBe(null);
  expect(header(m.headers, "Subject")).toBe("Hello");
});

test("the open pixel is removed for viewing and links cannot navigate", () => {
  const html =
    '<html><head><title>x</title></head><body><a href="http://k.example/t/c/abc">Go</a>' +
    '<img src="http://k.example/logo.png" alt="logo">' +
    '<img src="http://k.example/t/o/TOKEN.gif" width="1" height="1" alt="" style="display:block"></body></html>';
  const v = forViewing(html);
  expect(!v.includes("/t/o/"), "no open pixel").toBeTruthy();
  expect(v.includes('<img src="http://k.example/logo.png" alt="logo">'), "other images stay").toBeTruthy();
  expect(v.startsWith('<html><head><base target="_blank">'), "links open a new window, which the sandbox refuses").toBeTruthy();
  expect(forViewing("<p>hi</p>")).toBe('<base target="_blank"><p>hi</p>');
});
