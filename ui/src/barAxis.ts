// How a bar chart's labels fit under its bars (Chart.tsx's BarChart): on
// one line where there is room, else broken onto two lines at a space, else
// slanted, cut short and, where even slanted labels would touch, only every
// second (third…) one shown. Pure, with the text measured by the caller, so
// it is unit-tested.

/** The labels' font size in CSS pixels (uPlot's axis font) and the height of a line of them. */
export const LABEL_PX = 12;
const LINE = LABEL_PX * 1.5;
/** The axis's ticks and the gap between them and the labels, which the labels' room adds to. */
const TICKS_AND_GAP = 10 + 6;
/** The least room between two neighbouring labels. */
const SPACE = 8;
/** The angle of slanted labels and the longest one shown whole. */
const SLANT = 45;
const MAX_SLANTED_CHARS = 16;

/** The axis's height with its labels on one line. */
export const ONE_LINE_SIZE = TICKS_AND_GAP + LINE + 4;

export interface BarAxis {
  /** Each bar's label as drawn: "\n" between lines, "" where it is left out. */
  values: string[];
  /** Degrees off horizontal (uPlot's `rotate`; positive slants down to the left of the bar). */
  rotate: number;
  /** The height the axis needs, in CSS pixels. */
  size: number;
}

/** The two lines, broken at one space, whose longer is shortest; the label itself when it has no space. */
function twoLines(label: string, width: (s: string) => number): string[] {
  let best = [label];
  let longest = width(label);
  for (let i = label.indexOf(" "); i >= 0; i = label.indexOf(" ", i + 1)) {
    const lines = [label.slice(0, i), label.slice(i + 1)];
    const w = Math.max(...lines.map(width));
    if (w < longest) [best, longest] = [lines, w];
  }
  return best;
}

const cut = (s: string) => (s.length > MAX_SLANTED_CHARS ? `${s.slice(0, MAX_SLANTED_CHARS - 1).trimEnd()}…` : s);

/**
 * How `labels` are drawn under bars `slot` CSS pixels apart, `width` giving
 * a text's width in CSS pixels at LABEL_PX.
 */
export function barAxis(labels: string[], slot: number, width: (s: string) => number): BarAxis {
  const fits = (lines: string[]) => lines.every((l) => width(l) + SPACE <= slot);
  if (fits(labels)) return { values: labels, rotate: 0, size: ONE_LINE_SIZE };
  const broken = labels.map((l) => twoLines(l, width));
  if (fits(broken.flat())) return { values: broken.map((l) => l.join("\n")), rotate: 0, size: TICKS_AND_GAP + 2 * LINE + 4 };
  // Slanted labels are slot·sin(angle) apart measured across them, which must clear a glyph's height.
  const sin = Math.sin((SLANT * Math.PI) / 180);
  const every = Math.max(1, Math.ceil((LABEL_PX + 2) / sin / Math.max(slot, 1)));
  const values = labels.map((l, i) => (i % every === 0 ? cut(l) : ""));
  const longest = Math.max(0, ...values.map(width));
  const size = TICKS_AND_GAP + Math.ceil(longest * sin + LINE) + 4;
  return { values, rotate: SLANT, size };
}
