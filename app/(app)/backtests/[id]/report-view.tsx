"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo } from "react";
import { trpc } from "@/app/_components/trpc";
import type { BacktestProgressData } from "@/engine/events";
import { hasRole, isRole } from "@/server/auth/roles";
import { HEADLINE_KEYS, configRows, formatMetric, isDaily, metricDef, metricValue, priceDecimals, toRunView, type RunView } from "../report-model";
import { RunProgress } from "../run-progress";
import type { RunDetail } from "../types";
import { Section, StatusBadge, signCls } from "../ui";
import { type StreamState, useBacktestProgress } from "../use-backtest-progress";
import { EquityChart } from "./equity-chart";
import { MetricsTable } from "./metrics-table";
import { MonthlyHeatmap } from "./monthly-heatmap";
import { PnlHistogram } from "./pnl-histogram";
import { TradeTable } from "./trade-table";
import { TradesChart } from "./trades-chart";

export function ReportView({ id }: { id: string }) {
  const get = trpc.backtest.get.useQuery({ id }, { refetchInterval: (q) => (q.state.data?.status === "running" ? 2000 : false), retry: (n, e) => e.data?.code !== "NOT_FOUND" && n < 2 });
  const { progress, stream } = useBacktestProgress(get.data?.status === "running");
  const event = progress.get(id);
  const utils = trpc.useUtils();

  // The stream says the run ended: fetch the stored report at once.
  useEffect(() => {
    if (event && event.status !== "running" && get.data?.status === "running") void utils.backtest.get.invalidate({ id });
  }, [event, get.data?.status, utils, id]);

  if (get.isLoading) return <p className="text-sm text-dim">Loading report…</p>;
  if (get.error) {
    return (
      <div className="space-y-3">
        <BackLink />
        <p role="alert" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
          {get.error.data?.code === "NOT_FOUND" ? `There is no backtest with id ${id} (it may have been deleted).` : get.error.message}
        </p>
      </div>
    );
  }
  if (!get.data) return null;
  return <Report raw={get.data} progressEvent={event} stream={stream} />;
}

function BackLink() {
  return (
    <Link href="/backtests" className="text-xs text-dim hover:text-fg">
      ← Backtests
    </Link>
  );
}

function Report({ raw, progressEvent, stream }: { raw: RunDetail; progressEvent: BacktestProgressData | undefined; stream: StreamState }) {
  const run = useMemo(() => toRunView(raw), [raw]);
  const daily = isDaily(run);
  const decimals = useMemo(() => priceDecimals(run), [run]);
  const hasReport = run.metrics !== null && (run.status === "done" || run.status === "cancelled");
  const exportBase = `/api/backtests/${encodeURIComponent(run.id)}/export`;
  const btn = "rounded-sm border border-line px-2.5 py-1 text-xs text-dim hover:border-dim hover:text-fg";

  return (
    <div className="space-y-4" data-testid="backtest-report" data-status={run.status}>
      <div className="space-y-2">
        <BackLink />
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div className="min-w-0">
            <h1 className="flex flex-wrap items-center gap-2 text-lg font-semibold">
              <span className="break-all">{run.strategyName ?? run.strategy}</span>
              <span className="num text-sm font-normal text-dim">
                {run.symbol} {run.timeframe}
              </span>
              <StatusBadge status={run.status} />
            </h1>
            <p className="num mt-0.5 text-[11px] break-all text-dim">run {run.id}</p>
          </div>
          <div className="flex flex-wrap gap-2">
            <a className={btn} href={`${exportBase}?format=html`} download={`backtest-${run.id}.html`}>
              Export HTML
            </a>
            <a className={btn} href={`${exportBase}?format=json`} download={`backtest-${run.id}.json`}>
              Export JSON
            </a>
            <DeleteButton id={run.id} disabled={run.status === "running"} />
          </div>
        </div>
      </div>

      {run.status === "failed" ? (
        <div role="alert" data-testid="backtest-error" className="border border-bad/50 bg-bad/10 px-4 py-3 text-sm text-bad">
          <p className="font-semibold">This backtest failed.</p>
          <p className="num mt-1 text-xs break-words whitespace-pre-wrap">{run.error ?? "No error message was recorded."}</p>
        </div>
      ) : null}
      {run.status === "cancelled" ? (
        <p className="border border-warn/40 bg-warn/5 px-4 py-2 text-sm text-warn">
          Cancelled before the end of the data: every figure below covers only the {run.bars.toLocaleString("en-US")} bars run before the cancel.
        </p>
      ) : null}
      {run.status === "running" ? (
        <RunProgress
          runId={run.id}
          event={progressEvent}
          fallback={{ status: run.status, error: run.error, bars: run.bars, finalValue: run.finalValue, fills: run.fills }}
          stream={stream}
          onClose={() => undefined}
          navigateOnDone={false}
        />
      ) : null}
      {Object.values(run.dropped).some((n) => n > 0) ? (
        <p className="text-xs text-warn">
          Some stored entries were malformed and are not shown: {Object.entries(run.dropped).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(", ")}.
        </p>
      ) : null}

      <Section title="Configuration">
        <dl className="grid gap-px bg-line text-sm sm:grid-cols-2">
          {configRows(run).map((r) => (
            <div key={r.label} className="min-w-0 bg-panel px-4 py-2">
              <dt className="text-[11px] uppercase tracking-wide text-dim">{r.label}</dt>
              <dd className="num mt-0.5 text-xs break-words">{r.value}</dd>
            </div>
          ))}
        </dl>
      </Section>

      {hasReport ? <ReportBody run={run} daily={daily} decimals={decimals} /> : null}
    </div>
  );
}

function ReportBody({ run, daily, decimals }: { run: RunView; daily: boolean; decimals: number }) {
  return (
    <>
      <dl className="grid grid-cols-2 gap-px border border-line bg-line sm:grid-cols-4" data-testid="headline-metrics">
        {HEADLINE_KEYS.map((k) => {
          const def = metricDef(k);
          const signed = k === "totalReturn" || k === "annualizedReturn";
          const text = formatMetric(run.metrics, def, run.currency, daily);
          return (
            <div key={k} className="min-w-0 bg-panel px-4 py-3">
              <dt className="text-[11px] uppercase tracking-wide text-dim">{def.label}</dt>
              <dd title={text} className={`num mt-1 truncate text-sm sm:text-base ${signed ? signCls(metricValue(run.metrics, k)) : ""}`}>
                {text}
              </dd>
            </div>
          );
        })}
      </dl>

      <Section title="Equity and drawdown">
        <EquityChart equity={run.equity} daily={daily} currency={run.currency} initialCash={metricValue(run.metrics, "initialCash")} />
      </Section>

      <Section title="Trades on price" right={<span className="num text-[11px] text-dim">UTC</span>}>
        <TradesChart prices={run.prices} trades={run.trades} daily={daily} decimals={decimals} bars={run.bars} />
      </Section>

      <div className="grid gap-4 xl:grid-cols-2">
        <Section title="Monthly returns">
          <MonthlyHeatmap monthly={run.monthly} />
        </Section>
        <Section title="Trade P&L distribution">
          <PnlHistogram trades={run.trades} currency={run.currency} />
        </Section>
      </div>

      <Section title="Metrics">
        <MetricsTable metrics={run.metrics} currency={run.currency} daily={daily} />
      </Section>

      <Section title={`Trades (${run.trades.length.toLocaleString("en-US")})`}>
        <TradeTable trades={run.trades} daily={daily} decimals={decimals} currency={run.currency} />
      </Section>
    </>
  );
}

function DeleteButton({ id, disabled }: { id: string; disabled: boolean }) {
  const router = useRouter();
  const me = trpc.users.me.useQuery();
  const utils = trpc.useUtils();
  const del = trpc.backtest.delete.useMutation({
    onSuccess: () => {
      void utils.backtest.list.invalidate();
      router.push("/backtests");
    },
  });
  const role = me.data?.role;
  if (!isRole(role) || !hasRole(role, "trader")) return null;
  return (
    <>
      <button
        type="button"
        disabled={disabled || del.isPending}
        onClick={() => {
          if (window.confirm("Delete this backtest and its report? This cannot be undone.")) del.mutate({ id });
        }}
        className="rounded-sm border border-line px-2.5 py-1 text-xs text-dim hover:border-bad hover:text-bad disabled:opacity-40"
      >
        {del.isPending ? "Deleting…" : "Delete"}
      </button>
      {del.error ? <span role="alert" className="w-full text-xs text-bad">{del.error.message}</span> : null}
    </>
  );
}
