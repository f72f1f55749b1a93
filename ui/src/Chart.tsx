// A time-series chart (uPlot): one series of values per day, sized to its
// container and redrawn when the container resizes.
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
