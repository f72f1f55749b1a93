// Unit tests of a bar chart's labels: one line where they fit, two lines
// broken at a space where that fits, else slanted, cut short and thinned so
// that no two touch; the axis grows to hold them.
import { expect, test } from "vitest";
import { barAxis } from "../../src/barAxis";

// Every character 7 px wide, near enough uPlot's 12 px axis font.
const width = (s: string) => s.length * 7;
const OUTCOMES = ["Delivered", "Unique opens", "Unique clicks", "Hard bounces", "Soft bounces", "Refused", "Skipped", "Unsubscribed", "Complaints"];

test("labels with room to spare stay on one line", () => {
  const a = barAxis(OUTCOMES, 140, width);
  expect(a.values).toStrictEqual(OUTCOMES);
  expect(a.rotate).toBe(0);
});

test("labels too wide for one line are broken at the space that keeps both lines shortest", () => {
  // 13 characters (91 px) do not fit 96 px with room between; 12 (84 px) and two-word labels broken do.
  const a = barAxis(["Unique clicks", "Refused", "Sent to a friend"], 96, width);
  expect(a.rotate).toBe(0);
  expect(a.values).toStrictEqual(["Unique\nclicks", "Refused", "Sent to\na friend"]);
  expect(a.size).toBeGreaterThan(barAxis(["Refused"], 96, width).size);
});

test("where even two lines would touch (a tablet's campaign report), the labels slant and the axis grows to hold them", () => {
  // About 700 px for nine bars: "Unsubscribed" (84 px) has no space to break at and does not fit 78 px.
  const a = barAxis(OUTCOMES, 78, width);
  expect(a.rotate).toBeGreaterThan(0);
  expect(a.values).toStrictEqual(OUTCOMES);
  expect(a.size).toBeGreaterThanOrEqual(Math.ceil(width("Unsubscribed") * Math.SQRT1_2));
});

test("slanted labels are cut short, and thinned out where bars stand closer than a line", () => {
  const long = ["A very long link label indeed", "Short"];
  expect(barAxis(long, 40, width).values[0]).toBe("A very long lin…");
  const many = Array.from({ length: 40 }, (_, i) => `Link ${i + 1}`);
  const a = barAxis(many, 8, width);
  const shown = a.values.filter((v) => v !== "");
  expect(a.values[0]).toBe("Link 1");
  expect(shown.length).toBeLessThan(many.length);
  // Shown labels stand at least a glyph's height apart across the slant.
  const gap = (a.values.indexOf(shown[1]) - a.values.indexOf(shown[0])) * 8 * Math.SQRT1_2;
  expect(gap).toBeGreaterThanOrEqual(12);
});
