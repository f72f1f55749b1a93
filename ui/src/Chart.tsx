// Charts (uPlot): a time series with one value per day, several daily
// series with a legend (reports: value and conversions; the dashboard: sends, opens, clicks),
// bars for a few named quantities (a template's or a campaign's report)
// whose labels stay readable however narrow (see barAxis), and a model's
// calibration against the diagonal; each sized to its container and redrawn
// when the container resizes.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { barAxis, LABEL_PX, ONE_LINE_SIZE, type BarAxis } from "./barAxis";

export function DailyChart({ days, values, label }: { days: string[]; values: number[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: 220,
      scales: { x: { time: true } },
      legend: { show: false },
      axes: [{ stroke: "#5b6275" }, { stroke: "#5b6275", size: 56 }],
      series: [
        {},
        {
          label,
          stroke: "#3b5bdb",
          width: 2,
          fill: "rgba(59, 91, 219, 0.12)",
          points: { show: false },
        },
      ],
    };
    const plot = new uPlot(opts, [xs, values], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [days, values, label]);
  return <div ref={box} className="chart" role="img" aria-label={`${label}, one point per day`} />;
}

export interface DailySeries {
  label: string;
  values: number[];
  color: string;
  /** "right" puts it on a second axis (a count beside money, say). */
  axis?: "left" | "right";
  /** How its values read on its axis and in the legend. */
  format?: (n: number) => string;
  dash?: number[];
}

const DAY = 86_400;

/** Several series over the same days, a legend under the chart giving each
 * one's value on the hovered day; each series' total is in the aria-label. */
export function SeriesChart({ days, series, label, height = 240 }: { days: string[]; series: DailySeries[]; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    let ys: (number | null)[][] = series.map((s) => s.values);
    // uPlot spans a lone point over a thousand days: give it an empty day each side instead.
    if (xs.length === 1) {
      xs = [xs[0] - DAY, xs[0], xs[0] + DAY];
      ys = ys.map((v) => [null, v[0], null]);
    }
    const left = series.find((s) => s.axis !== "right");
    const right = series.find((s) => s.axis === "right");
    const fmt = (f?: (n: number) => string) => (_u: uPlot, splits: number[]) => splits.map((v) => (f ? f(v) : v.toLocaleString("en-US")));
    // A few days only: show the points, or a single day would draw nothing.
    const few = days.length <= 3;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
        r: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
      },
      legend: { show: true, live: true },
      axes: [
        // Whole days only: the data has one point a day.
        { stroke: "#5b6275", incrs: [1, 2, 7, 14, 30, 91, 182, 365].map((d) => d * DAY) },
        { stroke: "#5b6275", size: 64, scale: "y", values: fmt(left?.format) },
        ...(right ? [{ stroke: "#5b6275", size: 64, scale: "r", side: 1, grid: { show: false }, values: fmt(right.format) }] : []),
      ],
      series: [
        { value: (_u, v) => (v === null ? "—" : new Date(v * 1000).toISOString().slice(0, 10)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          dash: s.dash,
          scale: s.axis === "right" ? "r" : "y",
          points: { show: few, size: 6, fill: s.color },
          value: (_u: uPlot, v: number | null) => (v === null ? "—" : s.format ? s.format(v) : v.toLocaleString("en-US")),
        })),
      ],
    };
    const plot = new uPlot(opts, [xs, ...ys] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [days, series, label, height]);
  const summary = series
    .map((s) => {
      const total = s.values.reduce((a, b) => a + b, 0);
      return `${s.label}: ${s.format ? s.format(total) : total.toLocaleString("en-US")} in total`;
    })
    .join(", ");
  return <div ref={box} className="chart series-chart" role="img" aria-label={`${label}, one point per day over ${days.length} day(s). ${summary}`} style={{ minHeight: height + 56 }} />;
}

/** The width of a text in uPlot's axis font, in CSS pixels. */
let measureCtx: CanvasRenderingContext2D | null = null;
function axisTextWidth(text: string): number {
  if (!measureCtx) {
    measureCtx = document.createElement("canvas").getContext("2d");
    if (!measureCtx) return text.length * LABEL_PX * 0.6;
    measureCtx.font = `${LABEL_PX}px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif`;
  }
  return measureCtx.measureText(text).width;
}

const BAR_Y_AXIS = 48;

/** Bars, one per label, with the value above each; the numbers are in the aria-label too.
 * `height` is the chart's with its labels on one line; it grows by what longer labels need. */
export function BarChart({ labels, values, label, height = 220 }: { labels: string[]; values: number[]; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = labels.map((_, i) => i);
    const bars = uPlot.paths.bars!({ size: [0.6, 80] });
    // The labels are laid out anew for each width the chart is drawn at (a tablet's would overlap on one line).
    let laidOut: { width: number; axis: BarAxis } | null = null;
    const axisAt = (width: number) => {
      if (laidOut === null || laidOut.width !== width)
        laidOut = { width, axis: barAxis(labels, (width - BAR_Y_AXIS) / Math.max(labels.length, 1), axisTextWidth) };
      return laidOut.axis;
    };
    const widthNow = () => Math.max(el.clientWidth, 200);
    // uPlot asks for the axis's size while it is being built, before it has a width.
    const axis = (u: uPlot) => axisAt(u.width ?? widthNow());
    // Labels on two lines or slanted take their room below the bars, not from them.
    const heightAt = (width: number) => height + axisAt(width).size - ONE_LINE_SIZE;
    const opts: uPlot.Options = {
      width: widthNow(),
      height: heightAt(widthNow()),
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
      axes: [
        {
          stroke: "#5b6275",
          splits: () => xs,
          values: (u, splits) => splits.map((i) => axis(u).values[i] ?? ""),
          rotate: (u) => axis(u).rotate,
          size: (u) => axis(u).size,
          gap: 6,
          grid: { show: false },
        },
        { stroke: "#5b6275", size: BAR_Y_AXIS },
      ],
      series: [{}, { label, fill: "rgba(59, 91, 219, 0.75)", stroke: "#3b5bdb", paths: bars, points: { show: false } }],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = "#1d2230";
            ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
            ctx.textAlign = "center";
            values.forEach((v, i) => {
              const x = u.valToPos(i, "x", true);
              const y = u.valToPos(v, "y", true);
              ctx.fillText(v.toLocaleString("en-US"), x, y - 6 * devicePixelRatio);
            });
            ctx.restore();
          },
        ],
      },
    };
    const plot = new uPlot(opts, [xs, values], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: widthNow(), height: heightAt(widthNow()) }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [labels, values, label, height]);
  const summary = labels.map((l, i) => `${l}: ${values[i]}`).join(", ");
  return <div ref={box} className="chart" role="img" aria-label={`${label}. ${summary}`} />;
}

/** A model's calibration: predicted probability (x) against the rate
 * observed (y) per bin, as points joined by a line, over the diagonal a
 * perfectly calibrated model would follow. The bins are in the aria-label. */
export function CalibrationChart({ predicted, observed, label, height = 260 }: { predicted: number[]; observed: number[]; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // One shared x: the diagonal's ends and every bin's mean prediction.
    const xs = [0, ...predicted, 1];
    const diagonal = xs.slice();
    const ys: (number | null)[] = [null, ...observed, null];
    const pct = (_u: uPlot, splits: number[]) => splits.map((v) => `${Math.round(v * 100)}%`);
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
      axes: [
        { stroke: "#5b6275", values: pct, label: "Predicted", labelSize: 20 },
        { stroke: "#5b6275", size: 48, values: pct, label: "Observed", labelSize: 20 },
      ],
      series: [
        {},
        { label: "Perfect calibration", stroke: "#9aa1b3", width: 1, dash: [5, 5], points: { show: false } },
        { label, stroke: "#3b5bdb", width: 2, points: { show: true, size: 7, fill: "#3b5bdb" } },
      ],
    };
    const plot = new uPlot(opts, [xs, diagonal, ys], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [predicted, observed, label, height]);
  const pct = (v: number) => `${Math.round(v * 100)}%`;
  const summary = predicted.map((p, i) => `predicted ${pct(p)}, observed ${pct(observed[i])}`).join("; ");
  return <div ref={box} className="chart" role="img" aria-label={`${label}. ${summary}`} data-testid="calibration-chart" />;
}
