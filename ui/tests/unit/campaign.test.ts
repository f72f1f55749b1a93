// Unit tests of the campaign editor's pure logic: a definition read into
// form state and written back, empty inputs left to the server's defaults,
// half-typed numbers sent as typed (so the server names the field), problem
// paths placed on their fields, the actions each status allows, and the
// server's A/B detail with its templates named.
import { expect, test } from "vitest";
import { actionsFor, definitionOf, detailWithNames, EMPTY_FORM, fieldOf, formOf, isLive, problemsByField, templatesOf, type CampaignDefinition } from "../../src/email/campaign";

test("a definition survives the round trip through the form", () => {
  const single: CampaignDefinition = { audience: { list: "L1" }, template: "T1", per_minute: 600, local_time: "09:00", conversion: { event: "Order Completed", days: 7 } };
  expect(definitionOf(formOf("Spring", single))).toStrictEqual(single);
  const ab: CampaignDefinition = { audience: { segment: "S1" }, ab: { variants: ["A", "B", "C"], sample_percent: 20, wait_minutes: 240, metric: "clicks" } };
  const f = formOf("Test", ab);
  expect(f.mode).toBe("ab");
  expect(f.audienceKind).toBe("segment");
  expect(definitionOf(f)).toStrictEqual(ab);
  expect(formOf("Test", definitionOf(f) as CampaignDefinition), "form → definition → form is stable").toStrictEqual(f);
});

test("send_at goes out as an instant and comes back as the same local input", () => {
  const f = { ...EMPTY_FORM, audience: "S", template: "T", sendAt: "2026-12-01T09:30" };
  const d = definitionOf(f) as CampaignDefinition;
  expect(d.send_at).toBe(new Date("2026-12-01T09:30").toISOString());
  expect(formOf("", d).sendAt).toBe("2026-12-01T09:30");
});

test("empty inputs are left out; a number that is not one is sent as typed", () => {
  expect(definitionOf(EMPTY_FORM), "nothing chosen: the server says what is missing").toStrictEqual({});
  const d = definitionOf({ ...EMPTY_FORM, audience: "S", template: "T", perMinute: "ten" });
  expect(d).toStrictEqual({ audience: { segment: "S" }, template: "T", per_minute: "ten" });
  expect(definitionOf({ ...EMPTY_FORM, perMinute: " 0 " }).per_minute).toBe(0);
  const ab = definitionOf({ ...EMPTY_FORM, mode: "ab", variants: ["A", ""], samplePercent: "95" });
  expect(ab.ab, "blank variant rows are dropped").toStrictEqual({ variants: ["A"], sample_percent: 95, wait_minutes: 240, metric: "opens" });
  expect(definitionOf({ ...EMPTY_FORM, mode: "ab", template: "T" }).template, "an A/B test never sends the single template too").toBe(undefined);
});

test("problem paths land on their fields", () => {
  expect(fieldOf("definition.audience")).toBe("audience");
  expect(fieldOf("definition.audience.segment")).toBe("audience");
  expect(fieldOf("definition.ab.variants")).toBe("variants");
  expect(fieldOf("definition.ab.sample_percent")).toBe("samplePercent");
  expect(fieldOf("definition.ab")).toBe("variants");
  expect(fieldOf("definition.per_minute")).toBe("perMinute");
  expect(fieldOf("definition.conversion.days")).toBe("conversionDays");
  expect(fieldOf("name")).toBe("name");
  expect(fieldOf("definition.per_minute_x"), "a prefix of a word is no match").toBe(null);
  expect(fieldOf("definition")).toBe(null);
  const { fields, rest } = problemsByField([
    { path: "definition.per_minute", message: "must be a whole number from 1 to 1000000" },
    { path: "definition", message: "must be a JSON object" },
  ]);
  expect(fields).toStrictEqual({ perMinute: "must be a whole number from 1 to 1000000" });
  expect(rest).toStrictEqual([{ path: "definition", message: "must be a JSON object" }]);
});

test("each status allows what the server allows", () => {
  expect(actionsFor("draft")).toStrictEqual(["launch", "cancel"]);
  expect(actionsFor("sending")).toStrictEqual(["pause", "cancel"]);
  expect(actionsFor("scheduled")).toStrictEqual(["pause", "cancel"]);
  expect(actionsFor("paused")).toStrictEqual(["resume", "cancel"]);
  expect(actionsFor("sent")).toStrictEqual([]);
  expect(actionsFor("cancelled")).toStrictEqual([]);
  expect(isLive("sending")).toBe(true);
  expect(isLive("paused")).toBe(false);
  expect(templatesOf({ ab: { variants: ["A", "B"] } })).toStrictEqual(["A", "B"]);
  expect(templatesOf({ template: "T" })).toStrictEqual(["T"]);
});

test("the server's A/B detail names each variant's template, however the definition gave it", () => {
  const a = "0193a5e2-7c1d-7d6e-9f3a-2b4c5d6e7f80";
  const b = "0193a5e2-7c1d-7d6e-9f3a-2b4c5d6e7f81";
  const names: Record<string, string> = { [a]: "Spring (short)", [b]: "Spring (long)" };
  const name = (t: string) => names[t] ?? t;
  // The engine's words (declare_winner in kairos-engine's campaigns.rs), ids as given.
  const detail = `variant "${b}" chosen on unique opens: P(best) = 0.981; ${a}: 12/100, ${b}: 21/100`;
  const byId: CampaignDefinition = { audience: { segment: "S1" }, ab: { variants: [a, b] } };
  expect(detailWithNames(detail, byId, name)).toBe('variant "Spring (long)" chosen on unique opens: P(best) = 0.981; Spring (short): 12/100, Spring (long): 21/100');
  // A variant given by name, and an id whose template is gone (no name): each shown as given.
  const gone = "0193a5e2-7c1d-7d6e-9f3a-2b4c5d6e7f82";
  const mixed: CampaignDefinition = { ab: { variants: ["Autumn", a, gone] } };
  expect(detailWithNames(`variant "Autumn" chosen on unique clicks: P(best) = 0.5; Autumn: 1/9, ${a}: 0/9, ${gone}: 0/9`, mixed, name)).toBe(
    `variant "Autumn" chosen on unique clicks: P(best) = 0.5; Autumn: 1/9, Spring (short): 0/9, ${gone}: 0/9`,
  );
  // A single template's detail is left as it is.
  expect(detailWithNames("40 recipients", { template: a }, name)).toBe("40 recipients");
  // A name that reads like a pattern is matched as text.
  expect(detailWithNames("x.y: 1/2, xzy: 0/2", { ab: { variants: ["x.y", "xzy"] } }, (t) => (t === "x.y" ? "Dotted" : t))).toBe("Dotted: 1/2, xzy: 0/2");
});
