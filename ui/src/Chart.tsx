// Charts (uPlot): a time series with one value per day, and bars for a few
// named quantities (a template's report); each sized to its container and
// redrawn when the container resizes.
import { useEffect, useRef } from "react";
import uPlot from "uplot";

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

/** Bars, one per label, with the value above each; the numbers are in the aria-label too. */
export function BarChart({ labels, values, label, height = 220 }: { labels: string[]; values: number[]; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = labels.map((_, i) => i);
    const bars = uPlot.paths.bars!({ size: [0.6, 80] });
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
      axes: [
        { stroke: "#5b6275", splits: () => xs, values: (_u, splits) => splits.map((i) => labels[i] ?? ""), gap: 6, grid: { show: false } },
        { stroke: "#5b6275", size: 48 },
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
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [labels, values, label, height]);
  const summary = labels.map((l, i) => `${l}: ${values[i]}`).join(", ");
  return <div ref={box} className="chart" role="img" aria-label={`${label}. ${summary}`} />;
}
